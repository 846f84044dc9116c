using ReviewOrleans.Silo;

// A ReviewOrleans silo with the gateway and the dashboard co-hosted. `--demo` adds a built-in generated stream.
await SiloApp.Create(args).RunAsync();
