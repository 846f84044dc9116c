using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace ReviewOrleans.Hosting;

/// <summary>
/// A named set of defaults that a process starts from. <c>embedded</c> (the default): one silo, SQLite state, memory
/// streams, localhost clustering. <c>cluster</c>: every silo and standalone gateway on one PostgreSQL — membership,
/// grain state, stream PubSub, reminders and the durable "reviews" queues. Chosen with <c>--profile NAME</c> or the
/// environment variable <see cref="EnvironmentVariable"/>; appsettings files, environment variables and the command
/// line still override each default.
/// </summary>
public sealed record ClusterProfile(string Name)
{
    public const string EnvironmentVariable = "REVIEWORLEANS_PROFILE";

    /// <summary>The cluster's PostgreSQL connection string; else <c>ConnectionStrings:Postgres</c>. Never in a file of the repository.</summary>
    public const string PostgresVariable = "REVIEWORLEANS_POSTGRES";

    public static readonly ClusterProfile Embedded = new("embedded");

    /// <summary>
    /// Forests in the cluster profile (the embedded one keeps one over the whole stream): spread over silos, two
    /// forests let three silos on 2 cores reach 82 % of one silo's rate in two runs, one forest 62–64 % in two
    /// (<c>PlatformBench --cluster 1,3</c>, docs/benchmarks.md).
    /// </summary>
    public const int ClusterAnomalyShards = 2;

    public static readonly ClusterProfile Cluster = new("cluster");

    public bool IsCluster => this == Cluster;

    /// <summary>
    /// The profile named by <c>--profile NAME</c> (or <c>--profile=NAME</c>) in <paramref name="args"/>, else by
    /// <see cref="EnvironmentVariable"/>, else <see cref="Embedded"/>; and the arguments without that option.
    /// </summary>
    /// <exception cref="OptionsValidationException">An unknown profile name.</exception>
    public static (ClusterProfile Profile, string[] Remaining) FromArgs(string[] args)
    {
        string? name = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--profile" && i + 1 < args.Length)
            {
                name = args[++i];
            }
            else if (args[i].StartsWith("--profile=", StringComparison.Ordinal))
            {
                name = args[i]["--profile=".Length..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }
        name ??= Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : Embedded.Name;
        var profile = name.ToLowerInvariant() switch
        {
            "embedded" => Embedded,
            "cluster" => Cluster,
            _ => throw new OptionsValidationException("profile", typeof(string),
                [$"profile '{name}' (from --profile or {EnvironmentVariable}) is not one of: embedded, cluster"]),
        };
        return (profile, rest.ToArray());
    }

    /// <summary>
    /// Puts this profile's defaults under the configuration sources that already hold settings of the operator's
    /// (environment variables, command line), and above the appsettings files, whose values are the embedded profile's.
    /// </summary>
    public void ApplyTo(IConfigurationBuilder configuration)
    {
        if (!IsCluster)
        {
            return;
        }
        var defaults = new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Cluster:Membership"] = "adonet",
                ["Storage:Provider"] = "postgres",
                ["Storage:ApplySchema"] = "false",
                ["Streams:Provider"] = "adonet",
                ["Reminders:Provider"] = "adonet",
                ["Pipeline:AnomalyShards"] = ClusterAnomalyShards.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Delivery:PostgreSQL"] = "true",
            },
        };
        var sources = configuration.Sources;
        var afterFiles = sources.Count;
        for (var i = sources.Count - 1; i >= 0; i--)
        {
            if (sources[i] is FileConfigurationSource)
            {
                afterFiles = i + 1;
                break;
            }
        }
        sources.Insert(afterFiles, defaults);
    }

    /// <summary>The PostgreSQL connection string: <see cref="PostgresVariable"/>, else <c>ConnectionStrings:Postgres</c>, else <c>Storage:ConnectionString</c>.</summary>
    /// <exception cref="OptionsValidationException">None is set; says where to set one.</exception>
    public static string PostgresConnectionString(IConfiguration config) => WithoutResetOnClose(
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : config.GetConnectionString("Postgres") is { Length: > 0 } named ? named
        : config.GetValue<string>("Storage:ConnectionString") is { Length: > 0 } storage ? storage
        : throw new OptionsValidationException(PostgresVariable, typeof(string),
            [$"no PostgreSQL connection string: set the environment variable {PostgresVariable} (or ConnectionStrings:Postgres) to an Npgsql connection string, e.g. Host=10.0.0.7;Port=5432;Username=orleans;Password=…;Database=revieworleans"]));

    /// <summary>
    /// Npgsql runs DISCARD ALL whenever a pooled connection is returned, unless told not to. Orleans' ADO.NET providers
    /// open a connection per query and keep no session state, and DISCARD ALL also drops the cached plans of the
    /// stream poll's PL/pgSQL function: measured under a 3-silo load, the poll cost 1.95 ms with it and 0.74 ms
    /// without. A connection string that sets the option either way keeps its own choice.
    /// </summary>
    internal static string WithoutResetOnClose(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!Regex.IsMatch(connectionString, @"no\s*reset\s*on\s*close\s*=", RegexOptions.IgnoreCase))
        {
            builder.NoResetOnClose = true;
        }
        return builder.ConnectionString;
    }
}
