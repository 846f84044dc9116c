using ReviewOrleans.Database;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl db init | status | forget-settings</c>: the cluster's PostgreSQL schema (db/postgresql/), applied
/// idempotently, and the settings its silos and gateways share. The connection string comes from
/// <c>--connection</c> or the environment variable REVIEWORLEANS_POSTGRES, never from a file of the repository.
/// </summary>
internal static class DbCommand
{
    /// <summary>Also what <c>reviewctl db --help</c> prints (<see cref="CommandHelp"/>).</summary>
    public const string Usage = """
        usage: reviewctl db init [--connection CS]              apply db/postgresql/ up to this build's version (idempotent)
               reviewctl db status [--connection CS]            the database's schema version and this build's
               reviewctl db forget-settings --service-id ID [--connection CS]
                                                                forget the partitions, shards and queues a service recorded
                                                                (stop every silo and gateway of it first)

        CS is an Npgsql connection string; without --connection, the environment variable REVIEWORLEANS_POSTGRES.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        // --help and -h never get here: Program answers them from CommandHelp, which prints this Usage.
        if (args.Length == 0 || args[0] == "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var cl = new CommandLine(args[1..]);
        var connection = cl.String("connection") ?? Environment.GetEnvironmentVariable("REVIEWORLEANS_POSTGRES")
            ?? throw new CommandLineException("no database: give --connection \"Host=…;Port=…;Username=…;Database=…\" or set REVIEWORLEANS_POSTGRES");
        try
        {
            switch (args[0])
            {
                case "init":
                    cl.RejectUnknownOptions();
                    var applied = await PostgresSchema.ApplyAsync(connection);
                    foreach (var script in applied)
                    {
                        Console.WriteLine($"applied {script.Name}");
                    }
                    Console.WriteLine($"schema at version {PostgresSchema.BuildVersion} ({(applied.Count == 0 ? "already current" : $"{applied.Count} script(s) applied")})");
                    return 0;
                case "status":
                    cl.RejectUnknownOptions();
                    var (version, name) = await PostgresSchema.ReadVersionAsync(connection);
                    Console.WriteLine($"database schema version {version}{(name.Length > 0 ? $" ({name})" : "")}; this build's {PostgresSchema.BuildVersion} ({PostgresSchema.Scripts[^1].Name})");
                    return version == PostgresSchema.BuildVersion ? 0 : 1;
                case "forget-settings":
                    var serviceId = cl.String("service-id") ?? throw new CommandLineException("forget-settings needs --service-id ID");
                    cl.RejectUnknownOptions();
                    Console.WriteLine(await ClusterSettings.ForgetAsync(connection, serviceId)
                        ? $"forgot the settings of service '{serviceId}'; the next silo or gateway to start records its own"
                        : $"no settings recorded for service '{serviceId}'");
                    return 0;
                default:
                    throw new CommandLineException($"unknown db command '{args[0]}' (try reviewctl db --help)");
            }
        }
        catch (Exception ex) when (ex is SchemaException or Npgsql.NpgsqlException)
        {
            Console.Error.WriteLine($"reviewctl db {args[0]}: {ex.Message}");
            return 1;
        }
    }
}
