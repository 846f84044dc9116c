using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using ReviewOrleans.Database;
using ReviewOrleans.Delivery;
using ReviewOrleans.Alerting;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Gateway;
using ReviewOrleans.Grains;
using ReviewOrleans.Hosting;
using ReviewOrleans.Hosting.Ingestion;
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
        // Before joining: a database this build cannot use, or settings the cluster does not share, stop the silo here
        // (and the schema is applied here when Storage:ApplySchema allows, for TestingHost silos as for processes).
        ClusterDatabase.PrepareAsync(config, "silo").GetAwaiter().GetResult();
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

        silo.AddPlacementDirector<SpreadByKeyPlacement, SpreadByKeyPlacementDirector>();
        silo.AddPlacementDirector<OnSiloByKeyPlacement, OnSiloByKeyPlacementDirector>();
        silo.AddReviewStreams(config);
        AddScoredReviewDelivery(services, config);
        var database = AddGrainStorage(silo, config);
        var dedupHorizon = config.GetValue<TimeSpan?>("Pipeline:DedupHorizon") ?? new PipelineOptions().DedupHorizon;
        if (silo.AddReviewEventIngestion(config, database, dedupHorizon)?.StartTime is { } eventsStart)
        {
            services.PostConfigure<PipelineOptions>(o => o.EventsStartTimeMs = eventsStart.ToUnixTimeMilliseconds());
        }
        AddReminders(silo, config);
        AddAlerting(silo, config);
        return silo;
    }

    /// <summary>
    /// The Alerts section (rules and webhooks, checked here so that a bad one stops the silo at start) and the alert
    /// grain's activation once the silo is up: silence is watched from then on, even before the first review.
    /// </summary>
    private static void AddAlerting(ISiloBuilder silo, IConfiguration config)
    {
        var options = config.GetSection(AlertingOptions.SectionName).Get<AlertingOptions>() ?? new AlertingOptions();
        if (options.Check() is { Count: > 0 } errors)
        {
            throw new OptionsValidationException(AlertingOptions.SectionName, typeof(AlertingOptions), errors);
        }
        silo.Services.AddOptions<AlertingOptions>().Bind(config.GetSection(AlertingOptions.SectionName));
        // One client for every webhook: pooled connections, renewed so that a webhook's DNS change is seen.
        silo.Services.AddSingleton(_ => new WebhookSender(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            Timeout = Timeout.InfiniteTimeSpan, // each attempt has its webhook's own Timeout
        }));
        silo.AddStartupTask(async (services, cancellationToken) =>
        {
            try
            {
                await services.GetRequiredService<IGrainFactory>().GetGrain<IAlertGrain>(StreamNames.AllKey).Watch();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The first window on the metrics stream activates it as well; a silo must not fail to start for this.
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SiloHosting)).LogWarning(ex, "The alert grain could not be activated at start; the next closed window activates it");
            }
        });
    }

    /// <summary>
    /// The Delivery section: each destination it names gets a buffer and a writer loop, fed by the anomaly shards on
    /// this silo (they add the anomaly score). A PostgreSQL destination other than the cluster's own database gets its
    /// table here, so that a wrong connection string stops the silo at start instead of dead-lettering later.
    /// </summary>
    private static void AddScoredReviewDelivery(IServiceCollection services, IConfiguration config)
    {
        var options = config.GetSection(DeliveryOptions.SectionName).Get<DeliveryOptions>() ?? new DeliveryOptions();
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new OptionsValidationException(DeliveryOptions.SectionName, typeof(DeliveryOptions), [ex.Message]);
        }
        services.PostConfigure<PipelineOptions>(o => o.DeliverScoredReviews = options.Enabled);
        if (!options.Enabled)
        {
            services.AddSingleton(ScoredReviewDelivery.None);
            return;
        }
        string? postgres = null;
        if (options.PostgreSQL)
        {
            postgres = ScoredReviewStore.PostgresConnectionString(options, config);
            if (!string.IsNullOrEmpty(options.PostgresConnectionString))
            {
                PostgresSchema.ApplyScriptAsync(postgres, PostgresSchema.ScoredReviewsScript, "Delivery:PostgresConnectionString")
                    .GetAwaiter().GetResult();
            }
        }
        services.AddSingleton<IDeliveryDeadLetters>(sp => new DeliveryDeadLetters(sp.GetRequiredService<IGrainFactory>(), TimeProvider.System));
        services.AddSingleton(sp =>
        {
            var destinations = new List<IScoredReviewDestination>();
            if (postgres is not null)
            {
                destinations.Add(new PostgresScoredReviewDestination(Npgsql.NpgsqlDataSource.Create(postgres)));
            }
            if (!string.IsNullOrEmpty(options.FilesPath))
            {
                // Named after the host and silo port, which a restarted silo keeps: silos sharing the folder (one host,
                // a shared volume) keep apart, and each recovers the files its crashed predecessor left open.
                var port = sp.GetRequiredService<IOptions<EndpointOptions>>().Value.SiloPort;
                destinations.Add(new GzipJsonlFileDestination(Path.GetFullPath(options.FilesPath), options.FileMaxBytes, options.FileMaxAge,
                    TimeProvider.System, writer: $"scored-{FileNamePart(Environment.MachineName)}-{port}"));
            }
            return new ScoredReviewDelivery(destinations, options, new DeliveryErrorStore(options.ResolvedErrorsPath, TimeProvider.System),
                sp.GetRequiredService<IDeliveryDeadLetters>(), TimeProvider.System, sp.GetRequiredService<ILogger<ScoredReviewDelivery>>());
        });
    }

    private static string FileNamePart(string name) =>
        string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

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

    /// <returns>The platform's database where it is one (SQLite, PostgreSQL), for the tables of its own beside Orleans'.</returns>
    private static System.Data.Common.DbDataSource? AddGrainStorage(ISiloBuilder silo, IConfiguration config)
    {
        var provider = config.GetValue("Storage:Provider", "sqlite")!.ToLowerInvariant();
        switch (provider)
        {
            case "sqlite":
                var path = Path.GetFullPath(config.GetValue("Storage:SqlitePath", Path.Combine("data", "revieworleans.db"))!);
                SqliteGrainStorage.EnsureCreated(path);
                var sqlite = SqliteGrainStorage.CreateDataSource(path);
                AddAdoNetStore(silo, SqliteGrainStorage.Invariant, dataSource: sqlite);
                silo.Services.AddSingleton<IPartitionLog>(sp => new AdoNetPartitionLog(sqlite, ServiceIdOf(sp)));
                silo.AddMemoryGrainStorage(PubSubStore);
                return sqlite;
            case "postgres":
                // The schema was applied or verified before the silo was built (ClusterDatabase.PrepareAsync).
                var connectionString = ClusterProfile.PostgresConnectionString(config);
                var postgres = Npgsql.NpgsqlDataSource.Create(connectionString);
                AddAdoNetStore(silo, PostgresSchema.Invariant, connectionString);
                silo.Services.AddSingleton<IPartitionLog>(sp => new AdoNetPartitionLog(postgres, ServiceIdOf(sp)));
                if (ClusterMembership.Kind(config) == "adonet")
                {
                    // Explicit stream subscriptions (a standalone gateway's watches) outlive the silo that held them.
                    AddAdoNetStore(silo, PostgresSchema.Invariant, connectionString, name: PubSubStore);
                }
                else
                {
                    silo.AddMemoryGrainStorage(PubSubStore);
                }
                return postgres;
            case "adonet":
                // Any store Orleans' ADO.NET provider supports (PostgreSQL, SQL Server, MySQL), with Orleans' own
                // schema scripts applied to it beforehand.
                AddAdoNetStore(silo, Required(config, "Storage:Invariant", provider), Required(config, "Storage:ConnectionString", provider));
                // The partition log has SQL for SQLite and PostgreSQL only: here it lasts as long as the silo, so a
                // crash replays nothing (docs/configuration.md says so); use Storage:Provider=postgres for that.
                silo.Services.AddSingleton<IPartitionLog, MemoryPartitionLog>();
                silo.AddMemoryGrainStorage(PubSubStore);
                return null;
            case "memory":
                silo.AddMemoryGrainStorage(StorageNames.Default);
                silo.Services.AddSingleton<IPartitionLog, MemoryPartitionLog>();
                // Outside a cluster the co-hosted gateway is the only subscriber, and it subscribes afresh at every start.
                silo.AddMemoryGrainStorage(PubSubStore);
                return null;
            default:
                throw new OptionsValidationException("Storage:Provider", typeof(string),
                    [$"Storage:Provider '{provider}' is not one of: sqlite, postgres, adonet, memory"]);
        }
    }

    /// <summary>The service id Orleans runs under (however it was set), which keys the partition logs as it keys grain state.</summary>
    private static string ServiceIdOf(IServiceProvider services) => services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;

    /// <summary>Orleans' storage name for the stream PubSub's subscriptions.</summary>
    private const string PubSubStore = "PubSubStore";

    /// <summary>
    /// Durable reminders (<c>Reminders:Provider=adonet</c>, the cluster profile's default) wake a grain whose silo
    /// died without traffic to re-activate it: a category grain with open windows, say. Without them the grains'
    /// timers do that work while their silo lives.
    /// </summary>
    private static void AddReminders(ISiloBuilder silo, IConfiguration config)
    {
        var provider = config.GetValue("Reminders:Provider", "none")!.ToLowerInvariant();
        if (provider != "none")
        {
            silo.Services.PostConfigure<PipelineOptions>(o => o.WindowReminders = true);
            // Orleans refuses reminders more frequent than this (1 min by default); tests shorten both.
            if (config.GetValue<TimeSpan?>("Reminders:MinimumPeriod") is { } minimum)
            {
                silo.Services.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = minimum);
            }
        }
        switch (provider)
        {
            case "none":
                break;
            case "adonet":
                var connectionString = ClusterProfile.PostgresConnectionString(config);
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = PostgresSchema.Invariant;
                    o.ConnectionString = connectionString;
                });
                break;
            case "memory":
                silo.UseInMemoryReminderService();
                break;
            default:
                throw new OptionsValidationException("Reminders:Provider", typeof(string),
                    [$"Reminders:Provider '{provider}' is not one of: none, adonet, memory"]);
        }
    }

    /// <summary>Orleans' ADO.NET grain storage with the given driver, reached by connection string or data source.</summary>
    private static void AddAdoNetStore(ISiloBuilder silo, string invariant, string? connectionString = null,
        System.Data.Common.DbDataSource? dataSource = null, string name = StorageNames.Default) =>
        silo.AddAdoNetGrainStorage(name, (OptionsBuilder<AdoNetGrainStorageOptions> options) =>
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
