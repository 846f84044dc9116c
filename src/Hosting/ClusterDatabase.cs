using Microsoft.Extensions.Configuration;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Database;

namespace ReviewOrleans.Hosting;

/// <summary>
/// What a process checks in the cluster's PostgreSQL before it joins: the schema (applied with
/// <c>Storage:ApplySchema=true</c>, else verified, so that a missing table or query stops it at once with what to do)
/// and, with ADO.NET membership, the settings every member must share (<see cref="ClusterSettings"/>).
/// </summary>
public static class ClusterDatabase
{
    /// <summary>Whether this process uses PostgreSQL at all (membership, streams or grain state).</summary>
    public static bool IsUsed(IConfiguration config) =>
        ClusterMembership.Kind(config) == "adonet" || ReviewStreamProvider.Kind(config) == "adonet"
        || config.GetValue("Storage:Provider", "sqlite")!.Equals("postgres", StringComparison.OrdinalIgnoreCase);

    /// <param name="role">What this process is, for the settings record: "silo" or "gateway".</param>
    /// <exception cref="SchemaException">The database cannot be used by this build.</exception>
    /// <exception cref="ClusterSettingsMismatchException">This process disagrees with its cluster.</exception>
    public static async Task PrepareAsync(IConfiguration config, string role, CancellationToken cancellationToken = default)
    {
        if (!IsUsed(config))
        {
            return;
        }
        var connectionString = ClusterProfile.PostgresConnectionString(config);
        if (config.GetValue("Storage:ApplySchema", true))
        {
            await PostgresSchema.ApplyAsync(connectionString, cancellationToken);
        }
        else
        {
            await PostgresSchema.VerifyAsync(connectionString, cancellationToken);
        }
        if (ClusterMembership.Kind(config) == "adonet")
        {
            var settings = new ClusterSettings(
                config.GetValue("Pipeline:Partitions", StreamNames.DefaultPartitions),
                config.GetValue("Pipeline:AnomalyShards", StreamNames.DefaultAnomalyShards),
                ReviewStreamProvider.Queues(config));
            await settings.RecordOrCompareAsync(connectionString, ClusterMembership.ServiceId(config),
                $"{role} on {Environment.MachineName} (pid {Environment.ProcessId})", cancellationToken);
        }
    }

    /// <summary>
    /// Runs a host, first preparing the database; a configuration or database problem prints its message and
    /// returns exit code 1 instead of a stack trace.
    /// </summary>
    public static async Task<int> RunAsync(string program, Func<Task> run)
    {
        try
        {
            await run();
            return 0;
        }
        catch (Exception ex) when (ex is SchemaException or ClusterSettingsMismatchException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            Console.Error.WriteLine($"{program}: {ex.Message}");
            return 1;
        }
    }
}
