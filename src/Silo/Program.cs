using ReviewOrleans.Hosting;
using ReviewOrleans.Silo;

// A ReviewOrleans silo with the gateway and the dashboard co-hosted. `--demo` adds a built-in generated stream;
// `--profile cluster` joins a cluster on PostgreSQL.
return await ClusterDatabase.RunAsync("revieworleans silo", () => SiloApp.Create(args).RunAsync());
