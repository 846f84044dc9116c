using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Grains;
using ReviewOrleans.Sentiment;
using ReviewOrleans.Silo.Storage;

namespace ReviewOrleans.Silo;

/// <summary>
/// Everything a ReviewOrleans silo needs besides clustering and ports: pipeline options, the sentiment model, the
/// streams and the grain storage. The silo's Program and the TestingHost clusters both configure through here, so
/// tests run what production runs.
/// </summary>
public static class SiloHosting
{
    /// <summary>Configures the silo from <paramref name="config"/> (sections Pipeline, Model, Storage, Streams).</summary>
    public static ISiloBuilder AddReviewPipeline(this ISiloBuilder silo, IConfiguration config)
    {
        var services = silo.Services;
        services.AddOptions<PipelineOptions>()
            .Bind(config.GetSection(PipelineOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PipelineOptions>, PipelineOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ISentimentScorer>(_ => LoadScorer(config));
        // Loads the model while the silo starts: resolved lazily, a wrong Model:Path failed only inside partition
        // activations, after the gateway had accepted the reviews.
        services.AddHostedService<SentimentModelLoader>();

        silo.AddMemoryGrainStorage("PubSubStore");
        AddStreams(silo, config);

        AddGrainStorage(silo, config);
        return silo;
    }

    private static void AddStreams(ISiloBuilder silo, IConfiguration config)
    {
        var provider = config.GetValue("Streams:Provider", "memory")!.ToLowerInvariant();
        switch (provider)
        {
            case "memory":
                silo.AddMemoryStreams(StreamNames.Provider, streams =>
                {
                    streams.ConfigurePartitioning(config.GetValue(StreamNames.QueuesSetting, StreamNames.DefaultQueues));
                    streams.ConfigurePullingAgent(o => o.Configure(a =>
                        a.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(config.GetValue("Streams:PollMilliseconds", 10))));
                    // Delivered batches stay in the queue cache for rewinds and redelivery. Orleans' defaults keep at
                    // least the last 5 minutes; measured here the cache held about 185 bytes a review (467 against
                    // 282 MiB of heap after 1,000,000 reviews with a 5 s cache), which is 1.4 GB at 25,000 reviews/s
                    // over 5 minutes, carried by the collector too. 30 s bounds it. A partition grain lagging further
                    // behind than that loses batches, which it reports as a dead letter
                    // (ReviewPartitionGrain.OnStreamErrorAsync).
                    var cacheMinSeconds = config.GetValue("Streams:CacheMinSeconds", 5);
                    var cacheMaxAgeSeconds = config.GetValue("Streams:CacheMaxAgeSeconds", 30);
                    if (cacheMinSeconds < 0 || cacheMaxAgeSeconds < 1 || cacheMaxAgeSeconds < cacheMinSeconds)
                    {
                        throw new OptionsValidationException("Streams:CacheMaxAgeSeconds", typeof(int),
                            [$"Streams:CacheMinSeconds ({cacheMinSeconds}) must be at least 0 and Streams:CacheMaxAgeSeconds ({cacheMaxAgeSeconds}) at least 1 and not below it"]);
                    }
                    streams.ConfigureCacheEviction(o => o.Configure(e =>
                    {
                        e.DataMinTimeInCache = TimeSpan.FromSeconds(cacheMinSeconds);
                        e.DataMaxAgeInCache = TimeSpan.FromSeconds(cacheMaxAgeSeconds);
                    }));
                });
                break;
            case "eventhubs":
                // Durable, replayable streams: Azure Event Hubs for the records, an Azure Table for the checkpoints.
                silo.AddEventHubStreams(StreamNames.Provider, (ISiloEventHubStreamConfigurator streams) =>
                {
                    streams.ConfigureEventHub(b => b.Configure(o => o.ConfigureEventHubConnection(
                        Required(config, "Streams:EventHubs:ConnectionString", provider),
                        Required(config, "Streams:EventHubs:EventHubName", provider),
                        config.GetValue("Streams:EventHubs:ConsumerGroup", "$Default")!)));
                    streams.UseAzureTableCheckpointer(b => b.Configure(o =>
                    {
                        o.TableServiceClient = new Azure.Data.Tables.TableServiceClient(Required(config, "Streams:EventHubs:CheckpointConnectionString", provider));
                        o.PersistInterval = TimeSpan.FromSeconds(config.GetValue("Streams:EventHubs:CheckpointSeconds", 10));
                    }));
                });
                break;
            default:
                throw new OptionsValidationException("Streams:Provider", typeof(string),
                    [$"Streams:Provider '{provider}' is not one of: memory, eventhubs"]);
        }
    }

    private static ISentimentScorer LoadScorer(IConfiguration config)
    {
        var path = config.GetValue<string>("Model:Path");
        return SentimentScorerFactory.Load(string.IsNullOrEmpty(path) ? DefaultSentimentModel.FindPath() : path, new SentimentScorerOptions
        {
            IntraOpThreads = config.GetValue("Model:IntraOpThreads", 1),
            InterOpThreads = 1,
            MaxBatchSize = config.GetValue("Model:MaxBatchSize", 256),
        });
    }

    private static void AddGrainStorage(ISiloBuilder silo, IConfiguration config)
    {
        var provider = config.GetValue("Storage:Provider", "sqlite")!.ToLowerInvariant();
        switch (provider)
        {
            case "sqlite":
                var path = Path.GetFullPath(config.GetValue("Storage:SqlitePath", Path.Combine("data", "revieworleans.db"))!);
                SqliteGrainStorage.EnsureCreated(path);
                AddAdoNetStore(silo, SqliteGrainStorage.Invariant, dataSource: SqliteGrainStorage.CreateDataSource(path));
                break;
            case "postgres":
                var connectionString = Required(config, "Storage:ConnectionString", provider);
                PostgresGrainStorage.EnsureCreated(connectionString);
                AddAdoNetStore(silo, PostgresGrainStorage.Invariant, connectionString);
                break;
            case "adonet":
                // Any store Orleans' ADO.NET provider supports (PostgreSQL, SQL Server, MySQL), with Orleans' own
                // schema scripts applied to it beforehand.
                AddAdoNetStore(silo, Required(config, "Storage:Invariant", provider), Required(config, "Storage:ConnectionString", provider));
                break;
            case "memory":
                silo.AddMemoryGrainStorage(StorageNames.Default);
                break;
            default:
                throw new OptionsValidationException("Storage:Provider", typeof(string),
                    [$"Storage:Provider '{provider}' is not one of: sqlite, postgres, adonet, memory"]);
        }
    }

    /// <summary>Orleans' ADO.NET grain storage with the given driver, reached by connection string or data source.</summary>
    private static void AddAdoNetStore(ISiloBuilder silo, string invariant, string? connectionString = null, System.Data.Common.DbDataSource? dataSource = null) =>
        silo.AddAdoNetGrainStorage(StorageNames.Default, (OptionsBuilder<AdoNetGrainStorageOptions> options) =>
            options.Configure<IServiceProvider>((o, sp) =>
            {
                o.Invariant = invariant;
                if (dataSource is not null)
                {
                    o.DataSource = dataSource;
                }
                else
                {
                    o.ConnectionString = connectionString;
                }
                o.GrainStorageSerializer = VersionTolerantSerializer(sp);
            }));

    /// <summary>
    /// Orleans' own binary serializer: fields are matched by [Id] and types by [Alias], so renames and added fields
    /// keep old rows readable, and no assembly-qualified type names are stored.
    /// </summary>
    private static IGrainStorageSerializer VersionTolerantSerializer(IServiceProvider services) =>
        new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>());

    private static string Required(IConfiguration config, string key, string provider) =>
        config.GetValue<string>(key) is { Length: > 0 } value
            ? value
            : throw new OptionsValidationException(key, typeof(string), [$"{key} is required with the '{provider}' provider"]);
}

/// <summary>Reports an invalid pipeline setting at start as an options failure naming the setting.</summary>
internal sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}

/// <summary>Resolves the sentiment scorer at start, so that a missing or broken model stops the silo with its error.</summary>
internal sealed partial class SentimentModelLoader(ISentimentScorer scorer, ILogger<SentimentModelLoader> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogModelLoaded(scorer.Model.Id, scorer.Model.Version, scorer.Model.ManifestPath ?? "");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Sentiment model {Id} {Version} loaded from {Path}")]
    private partial void LogModelLoaded(string id, string version, string path);
}
