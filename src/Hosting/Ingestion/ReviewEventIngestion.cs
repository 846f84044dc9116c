using System.Data.Common;
using System.Globalization;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Streaming.EventHubs;
using Orleans.Streams;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Hosting.Ingestion;

/// <summary>The <c>Ingest:EventHubs</c> section: reviews from the event hub producers already write to.</summary>
public sealed class EventHubIngestOptions
{
    public const string SectionName = "Ingest:EventHubs";

    /// <summary>The namespace's connection string (Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…).</summary>
    public string? ConnectionString { get; set; }

    public string? EventHubName { get; set; }

    public string ConsumerGroup { get; set; } = "$Default";

    /// <summary>Archived partition files read instead of a hub (<see cref="ReviewEventFiles"/>): backfills, load tests.</summary>
    public string? FilesPath { get; set; }

    /// <summary>Lines of a partition file per event (files only).</summary>
    public int LinesPerEvent { get; set; } = ReviewEventFiles.DefaultLinesPerEvent;

    /// <summary>How often a partition's position is written to the platform's database, at most.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Where a partition never read before starts: <c>earliest</c>, <c>latest</c>, or an enqueued time (ISO 8601).</summary>
    public string StartPosition { get; set; } = "earliest";

    /// <summary>
    /// How long read events stay in the receivers' cache. A checkpoint is written as events leave it, so after a
    /// crash a partition re-reads about this much plus <see cref="CheckpointInterval"/>: both must stay well inside
    /// Pipeline:DedupHorizon, within which the partitions recognise what they already took.
    /// </summary>
    public TimeSpan CacheMaxAge { get; set; } = TimeSpan.FromMinutes(1);

    public bool Enabled => !string.IsNullOrEmpty(ConnectionString) || !string.IsNullOrEmpty(FilesPath);

    /// <summary>Null for earliest or latest; else the time.</summary>
    public DateTimeOffset? StartTime => StartPosition.ToLowerInvariant() is "earliest" or "latest" ? null
        : DateTimeOffset.Parse(StartPosition, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public void Validate(TimeSpan dedupHorizon)
    {
        if (!string.IsNullOrEmpty(ConnectionString) && !string.IsNullOrEmpty(FilesPath))
        {
            throw Invalid("set ConnectionString (a hub) or FilesPath (archived files), not both");
        }
        if (!string.IsNullOrEmpty(ConnectionString) && string.IsNullOrEmpty(EventHubName))
        {
            throw Invalid("EventHubName is required with ConnectionString");
        }
        if (StartPosition.ToLowerInvariant() is not ("earliest" or "latest")
            && !DateTimeOffset.TryParse(StartPosition, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
        {
            throw Invalid($"StartPosition '{StartPosition}' is not earliest, latest or a time such as 2026-12-01T00:00:00Z");
        }
        if (LinesPerEvent < 1)
        {
            throw Invalid("LinesPerEvent must be at least 1");
        }
        if (CheckpointInterval <= TimeSpan.Zero || CacheMaxAge <= TimeSpan.Zero)
        {
            throw Invalid("CheckpointInterval and CacheMaxAge must be positive");
        }
        if (CacheMaxAge + CheckpointInterval >= dedupHorizon / 2)
        {
            throw Invalid($"CacheMaxAge + CheckpointInterval ({CacheMaxAge + CheckpointInterval}) must stay under half of Pipeline:DedupHorizon ({dedupHorizon}): " +
                "what a partition re-reads after a crash must still be recognised");
        }
    }

    private static OptionsValidationException Invalid(string message) =>
        new(SectionName, typeof(EventHubIngestOptions), [$"{SectionName}: {message}"]);
}

/// <summary>
/// Adds the <see cref="StreamNames.EventsProvider"/> stream provider: Microsoft.Orleans.Streaming.EventHubs over the
/// producers' hub (or over archived files), with <see cref="ReviewEventDataAdapter"/> for their plain events and the
/// checkpoints in the platform's own database.
/// </summary>
public static class ReviewEventIngestion
{
    /// <summary>Events delivered to an ingest grain at once, at most.</summary>
    public const int EventsPerDelivery = 64;

    /// <param name="checkpoints">The platform's database (the SQLite file, or the cluster's PostgreSQL).</param>
    /// <returns>The options, or null when the section names no source.</returns>
    public static EventHubIngestOptions? AddReviewEventIngestion(this ISiloBuilder silo, IConfiguration config, DbDataSource? checkpoints, TimeSpan dedupHorizon)
    {
        var options = config.GetSection(EventHubIngestOptions.SectionName).Get<EventHubIngestOptions>() ?? new EventHubIngestOptions();
        if (!options.Enabled)
        {
            return null;
        }
        options.Validate(dedupHorizon);
        if (checkpoints is null)
        {
            throw new OptionsValidationException(EventHubIngestOptions.SectionName, typeof(EventHubIngestOptions),
                [$"{EventHubIngestOptions.SectionName} keeps its checkpoints in the platform's database: use Storage:Provider sqlite or postgres"]);
        }
        var files = string.IsNullOrEmpty(options.FilesPath) ? null : new ReviewEventFiles(Path.GetFullPath(options.FilesPath), options.LinesPerEvent);
        if (files is null)
        {
            CheckReachableAsync(options).GetAwaiter().GetResult();
        }
        else
        {
            _ = files.Partitions(); // a missing folder stops the silo here, naming it
        }
        var source = files is null ? $"eventhub:{options.EventHubName}" : "files";
        silo.AddEventHubStreams(StreamNames.EventsProvider, (ISiloEventHubStreamConfigurator streams) =>
        {
            streams.ConfigureEventHub(b => b.Configure(o =>
            {
                if (files is null)
                {
                    o.ConfigureEventHubConnection(options.ConnectionString!, options.EventHubName!, options.ConsumerGroup);
                }
                else
                {
                    // The provider's validator wants a hub; the file-backed factory never connects to it.
                    o.ConfigureEventHubConnection(_ => throw new NotSupportedException("file-backed"), "files", options.ConsumerGroup);
                }
            }));
            streams.UseDataAdapter((services, _) => new ReviewEventDataAdapter(services.GetRequiredService<Serializer>(), source));
            streams.ConfigureCheckpointer<StreamQueueCheckpointerOptions>(
                (services, name) => new SqlStreamCheckpointerFactory(checkpoints, services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
                    name, options.CheckpointInterval),
                b => b.Configure(o => o.PersistInterval = options.CheckpointInterval));
            // An enqueued time starts at the earliest event and skips the older ones (EventIngestGrain).
            streams.ConfigurePartitionReceiver(b => b.Configure(o => o.StartFromNow = options.StartPosition.Equals("latest", StringComparison.OrdinalIgnoreCase)));
            // Events go to the ingest grains in batches, so that a review partition gets one batch per delivery.
            streams.ConfigurePullingAgent(b => b.Configure(o => o.BatchContainerBatchSize = EventsPerDelivery));
            streams.ConfigureCacheEviction(b => b.Configure(o =>
            {
                o.DataMaxAgeInCache = options.CacheMaxAge;
                o.DataMinTimeInCache = options.CacheMaxAge / 2;
            }));
            if (files is not null)
            {
                streams.ConfigureComponent<IQueueAdapterFactory>((services, name) => FileEventHubAdapterFactory.Create(services, name, files));
            }
        });
        return options;
    }

    /// <summary>A namespace or hub that cannot be reached stops the silo at start, with both named.</summary>
    private static async Task CheckReachableAsync(EventHubIngestOptions options)
    {
        string where;
        try
        {
            where = $"Event Hubs namespace '{EventHubsConnectionStringProperties.Parse(options.ConnectionString!).FullyQualifiedNamespace}', hub '{options.EventHubName}'";
        }
        catch (FormatException ex)
        {
            throw new OptionsValidationException(EventHubIngestOptions.SectionName, typeof(EventHubIngestOptions),
                [$"{EventHubIngestOptions.SectionName}:ConnectionString is not an Event Hubs connection string: {ex.Message}"]);
        }
        try
        {
            await using var client = new EventHubProducerClient(options.ConnectionString, options.EventHubName, new EventHubProducerClientOptions
            {
                RetryOptions = new EventHubsRetryOptions { MaximumRetries = 1, TryTimeout = TimeSpan.FromSeconds(10) },
            });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.GetPartitionIdsAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is EventHubsException or OperationCanceledException or UnauthorizedAccessException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new OptionsValidationException(EventHubIngestOptions.SectionName, typeof(EventHubIngestOptions),
                [$"cannot reach {where} ({EventHubIngestOptions.SectionName}:ConnectionString, :EventHubName): {ex.Message}"]);
        }
    }
}
