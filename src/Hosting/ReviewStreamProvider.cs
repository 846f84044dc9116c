using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Database;

namespace ReviewOrleans.Hosting;

/// <summary>
/// The stream provider that carries the "reviews", "metrics" and "alerts" streams (<c>Streams:Provider</c>), set up
/// alike on silos, which pull the queues, and on standalone gateways, which publish to them:
/// <c>memory</c> (the embedded default, nothing survives the process), <c>adonet</c> (durable queues in the
/// cluster's PostgreSQL) or <c>eventhubs</c>. Publishers and pullers must agree on the queue count
/// (<see cref="StreamNames.QueuesSetting"/>): a batch goes to the queue its stream hashes to, and a queue no silo
/// pulls keeps it unread.
/// </summary>
public static class ReviewStreamProvider
{
    public static string Kind(IConfiguration config) => config.GetValue("Streams:Provider", "memory")!.ToLowerInvariant();

    public static int Queues(IConfiguration config)
    {
        var queues = config.GetValue(StreamNames.QueuesSetting, StreamNames.DefaultQueues);
        return queues >= 1 ? queues : throw new OptionsValidationException(StreamNames.QueuesSetting, typeof(int),
            [$"{StreamNames.QueuesSetting} must be at least 1, not {queues}"]);
    }

    /// <summary>Adds the provider to a silo, with its pulling agents.</summary>
    public static ISiloBuilder AddReviewStreams(this ISiloBuilder silo, IConfiguration config)
    {
        var kind = Kind(config);
        var queues = Queues(config);
        switch (kind)
        {
            case "memory":
                silo.AddMemoryStreams(StreamNames.Provider, streams =>
                {
                    streams.ConfigurePartitioning(queues);
                    streams.ConfigurePullingAgent(o => o.Configure(a =>
                        a.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(config.GetValue("Streams:PollMilliseconds", 10))));
                    // Delivered batches stay in the queue cache for rewinds and redelivery. Orleans' defaults keep at
                    // least the last 5 minutes; measured here the cache held about 185 bytes a review (467 against
                    // 282 MiB of heap after 1,000,000 reviews with a 5 s cache), which is 1.4 GB at 25,000 reviews/s
                    // over 5 minutes, carried by the collector too. 30 s bounds it. A partition grain lagging further
                    // behind than that loses batches, which it reports as a dead letter
                    // (ReviewPartitionGrain.OnStreamErrorAsync).
                    var (min, maxAge) = CacheAges(config);
                    streams.ConfigureCacheEviction(o => o.Configure(e =>
                    {
                        e.DataMinTimeInCache = min;
                        e.DataMaxAgeInCache = maxAge;
                    }));
                });
                break;
            case "adonet":
                var connectionString = ClusterProfile.PostgresConnectionString(config);
                silo.AddAdoNetStreams(StreamNames.Provider, streams =>
                {
                    streams.ConfigureAdoNet(o => o.Configure(a => ConfigureAdoNet(a, connectionString, config)));
                    streams.ConfigurePartitioning(queues);
                    streams.ConfigureCache(config.GetValue("Streams:CacheSize", 4096));
                    // Queues are spread over the active silos by Orleans' consistent-ring balancer (measured: 5/3 of 8
                    // over two silos) and move when a silo joins or leaves. The deployment-based balancer, which
                    // splits evenly, failed at silo start with 10.4.2 ("Active buckets contain a bucket … not in the
                    // master list"), so it is not used.
                    // A database read per poll: 10 ms against one PostgreSQL per queue and silo is wasteful, so the
                    // durable queues are polled every 50 ms unless set.
                    streams.ConfigurePullingAgent(o => o.Configure(a =>
                    {
                        a.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(config.GetValue("Streams:PollMilliseconds", 50));
                        // The agent gives up on a consumer after this long and fails the message (it becomes visible
                        // again, up to Streams:MaxAttempts); below the visibility timeout, so that a slow but
                        // successful delivery is not handed out a second time.
                        a.MaxEventDeliveryTime = TimeSpan.FromSeconds(config.GetValue("Streams:MaxDeliverySeconds", 15));
                    }));
                });
                break;
            case "eventhubs":
                // Durable, replayable streams: Azure Event Hubs for the records, an Azure Table for the checkpoints.
                silo.AddEventHubStreams(StreamNames.Provider, (ISiloEventHubStreamConfigurator streams) =>
                {
                    streams.ConfigureEventHub(b => b.Configure(o => ConfigureEventHub(o, config)));
                    streams.UseAzureTableCheckpointer(b => b.Configure(o =>
                    {
                        o.TableServiceClient = new Azure.Data.Tables.TableServiceClient(Required(config, "Streams:EventHubs:CheckpointConnectionString"));
                        o.PersistInterval = TimeSpan.FromSeconds(config.GetValue("Streams:EventHubs:CheckpointSeconds", 10));
                    }));
                });
                break;
            default:
                throw UnknownKind(kind);
        }
        return silo;
    }

    /// <summary>Adds the provider to an Orleans client (the standalone gateway), which publishes and subscribes.</summary>
    public static IClientBuilder AddReviewStreams(this IClientBuilder client, IConfiguration config)
    {
        var kind = Kind(config);
        var queues = Queues(config);
        switch (kind)
        {
            case "memory":
                client.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigurePartitioning(queues));
                break;
            case "adonet":
                var connectionString = ClusterProfile.PostgresConnectionString(config);
                client.AddAdoNetStreams(StreamNames.Provider, streams =>
                {
                    streams.ConfigureAdoNet(o => o.Configure(a => ConfigureAdoNet(a, connectionString, config)));
                    streams.ConfigurePartitioning(queues);
                });
                break;
            case "eventhubs":
                client.AddEventHubStreams(StreamNames.Provider, (IClusterClientEventHubStreamConfigurator streams) =>
                    streams.ConfigureEventHub(b => b.Configure(o => ConfigureEventHub(o, config))));
                break;
            default:
                throw UnknownKind(kind);
        }
        return client;
    }

    /// <summary>
    /// A message a silo took from a queue is invisible to others for <c>Streams:VisibilitySeconds</c> (default 15),
    /// then delivered again unless confirmed; after <c>Streams:MaxAttempts</c> deliveries (default 10) it moves to the
    /// dead-letter table. A killed silo's unconfirmed messages therefore come back within that timeout, which bounds
    /// how long a crash delays them (and so whether their windows are still open or only updated). A message is
    /// confirmed only when the silo's queue cache purges it, which waits for the slowest consumer of that queue; one
    /// handed out again meanwhile is harmless, since the partition recognises a batch it logged by its batch id.
    /// </summary>
    private static void ConfigureAdoNet(AdoNetStreamOptions options, string connectionString, IConfiguration config)
    {
        options.Invariant = PostgresSchema.Invariant;
        options.ConnectionString = connectionString;
        options.VisibilityTimeout = TimeSpan.FromSeconds(config.GetValue("Streams:VisibilitySeconds", 15));
        options.MaxAttempts = config.GetValue("Streams:MaxAttempts", 10);
    }

    private static void ConfigureEventHub(EventHubOptions options, IConfiguration config) =>
        options.ConfigureEventHubConnection(
            Required(config, "Streams:EventHubs:ConnectionString"),
            Required(config, "Streams:EventHubs:EventHubName"),
            config.GetValue("Streams:EventHubs:ConsumerGroup", "$Default")!);

    private static (TimeSpan Min, TimeSpan MaxAge) CacheAges(IConfiguration config)
    {
        var cacheMinSeconds = config.GetValue("Streams:CacheMinSeconds", 5);
        var cacheMaxAgeSeconds = config.GetValue("Streams:CacheMaxAgeSeconds", 30);
        if (cacheMinSeconds < 0 || cacheMaxAgeSeconds < 1 || cacheMaxAgeSeconds < cacheMinSeconds)
        {
            throw new OptionsValidationException("Streams:CacheMaxAgeSeconds", typeof(int),
                [$"Streams:CacheMinSeconds ({cacheMinSeconds}) must be at least 0 and Streams:CacheMaxAgeSeconds ({cacheMaxAgeSeconds}) at least 1 and not below it"]);
        }
        return (TimeSpan.FromSeconds(cacheMinSeconds), TimeSpan.FromSeconds(cacheMaxAgeSeconds));
    }

    private static OptionsValidationException UnknownKind(string kind) =>
        new("Streams:Provider", typeof(string), [$"Streams:Provider '{kind}' is not one of: memory, adonet, eventhubs"]);

    private static string Required(IConfiguration config, string key) =>
        config.GetValue<string>(key) is { Length: > 0 } value
            ? value
            : throw new OptionsValidationException(key, typeof(string), [$"{key} is required with Streams:Provider 'eventhubs'"]);
}
