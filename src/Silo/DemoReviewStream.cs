using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Gateway;
using ReviewOrleans.Synthetic;

namespace ReviewOrleans.Silo;

/// <summary>Settings of the --demo stream, section "Demo".</summary>
public sealed class DemoOptions
{
    public int ReviewsPerSecond { get; set; } = 200;

    /// <summary>
    /// The generator's seed, which also makes its review ids. Unset, each run draws one, so that a second run sends
    /// new reviews instead of re-sending the first run's ids (which the platform would count as duplicates); set it
    /// to repeat a run exactly (the seed in use is logged).
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>How often an anomaly (burst, malformed records, flood, duplicates, in turn) is injected.</summary>
    public TimeSpan AnomalyEvery { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>
/// The --demo run's built-in stream: synthetic reviews through the gateway's own ingestion path, with an injected
/// anomaly every <see cref="DemoOptions.AnomalyEvery"/>, so a newcomer sees windows, counts and alerts at once.
/// </summary>
public sealed partial class DemoReviewStream(
    ReviewIngestor ingestor,
    IOptions<DemoOptions> options,
    TimeProvider clock,
    ILogger<DemoReviewStream> logger) : BackgroundService
{
    private static readonly InjectedAnomaly[] Rotation =
        [InjectedAnomaly.OneStarBurst, InjectedAnomaly.Malformed, InjectedAnomaly.CategoryFlood, InjectedAnomaly.Duplicates];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var demo = options.Value;
        var seed = demo.Seed ?? Random.Shared.Next();
        var generator = new SyntheticReviewGenerator(seed);
        var tick = TimeSpan.FromMilliseconds(100);
        var perTick = Math.Max(1, demo.ReviewsPerSecond / 10);
        var nextAnomaly = clock.GetUtcNow() + demo.AnomalyEvery;
        var rotation = 0;
        using var timer = new PeriodicTimer(tick, clock);
        LogStarted(demo.ReviewsPerSecond, seed);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = clock.GetUtcNow();
            var records = new List<ReviewRecord>(perTick);
            for (var i = 0; i < perTick; i++)
            {
                records.Add(new ReviewRecord { Review = ReviewApi.ToApi(generator.Next(now.ToUnixTimeMilliseconds())) });
            }
            if (now >= nextAnomaly)
            {
                var kind = Rotation[rotation++ % Rotation.Length];
                var count = kind == InjectedAnomaly.OneStarBurst ? 2_000 : 200;
                records.AddRange(generator.Inject(kind, count, now.ToUnixTimeMilliseconds())
                    .Select(r => new ReviewRecord { Review = ReviewApi.ToApi(r) }));
                nextAnomaly = now + demo.AnomalyEvery;
                LogInjected(kind, count);
            }
            try
            {
                await ingestor.IngestAsync(records, includeAccepted: false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSendFailed(ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo stream started: {Rate} reviews/s with injected anomalies (seed {Seed}: Demo:Seed repeats this run)")]
    private partial void LogStarted(int rate, int seed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo stream injected {Kind} ({Count} records)")]
    private partial void LogInjected(InjectedAnomaly kind, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo stream: sending a batch failed")]
    private partial void LogSendFailed(Exception ex);
}
