using ReviewOrleans.Analytics.Forest;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>Settings of the review pipeline, bound from configuration section "Pipeline".</summary>
public sealed class PipelineOptions
{
    public const string SectionName = "Pipeline";

    /// <summary>Stream keys of the "reviews" stream, hence review partition grains (default 16).</summary>
    public int Partitions { get; set; } = StreamNames.DefaultPartitions;

    /// <summary>Tumbling window length (default 5 s, as the reference pipeline's STEP).</summary>
    public TimeSpan WindowSize { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Processing time (arrival at the gateway, default) or event time (the review's event_time).</summary>
    public WindowTime WindowTime { get; set; } = WindowTime.Processing;

    /// <summary>
    /// Event time: how far the watermark trails the newest event. Processing time: how long a window waits after its
    /// end for pre-aggregates still in flight from the partitions (must exceed <see cref="FlushInterval"/>).
    /// </summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromSeconds(1);

    public LateValuePolicy LatePolicy { get; set; } = LateValuePolicy.UpdateWindow;

    /// <summary>How often partition grains send their pre-aggregates downstream.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often category grains close due windows.</summary>
    public TimeSpan WindowTick { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Whether a category grain with open windows keeps a durable reminder (every <see cref="WindowReminderPeriod"/>) that
    /// re-activates it to close them when no more traffic comes: after its silo died or it was collected as idle, its
    /// windows would otherwise wait for the category's next review. Set by the silo when a reminder service is
    /// configured (Reminders:Provider, adonet in the cluster profile).
    /// </summary>
    public bool WindowReminders { get; set; }

    /// <summary>Period of the category grains' wake-up reminder (1 min, Orleans' default minimum reminder period).</summary>
    public TimeSpan WindowReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Closed windows kept per category (default 720: an hour of 5 s windows).</summary>
    public int HistoryWindows { get; set; } = 720;

    /// <summary>A re-sent review_id is dropped if seen within half this horizon, and never after it (see RecentIdFilter).</summary>
    public TimeSpan DedupHorizon { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Review ids remembered per partition for de-duplication (8 bytes each, ×1.5 for the hash sets).</summary>
    public int DedupCapacityPerPartition { get; set; } = 1_000_000;

    /// <summary>
    /// Distinct product categories the platform takes; reviews of a further new category are refused with
    /// <c>product_category.limit_reached</c>. Each category is a grain with its own windows, history and priority
    /// queue, so a producer sending ever-new categories would otherwise grow a silo without bound.
    /// </summary>
    public int MaxCategories { get; set; } = 10_000;

    /// <summary>
    /// A category grain with no review for this long and no window open deactivates (its history is saved); the next
    /// review or query activates it again. Its window timer would otherwise keep it in memory for good.
    /// </summary>
    public TimeSpan CategoryIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Reviews predicted at this many stars or fewer go to their category's priority queue.</summary>
    public int PriorityMaxStars { get; set; } = 2;

    /// <summary>Unacknowledged reviews kept per category; beyond it the oldest are dropped and counted.</summary>
    public int PriorityQueueCapacity { get; set; } = 1_000;

    /// <summary>Dead letters kept; beyond it the oldest are dropped (the total is still counted).</summary>
    public int DeadLetterCapacity { get; set; } = 10_000;

    /// <summary>
    /// Least time between two writes of a priority queue's or the dead-letter store's state, each of which stores the
    /// whole bounded list; calls arriving meanwhile share the next write and return once it is done. Zero writes as
    /// soon as the previous write ends.
    /// </summary>
    public TimeSpan StateWriteInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Windows whose distinct review counts the counting grain keeps.</summary>
    public int DistinctWindowsKept { get; set; } = 60;

    /// <summary>Anomaly feature profile: "default" (schema and values) or "kda" (star rating alone, like the reference).</summary>
    public string AnomalyProfile { get; set; } = AnomalyFeatures.DefaultProfile;

    /// <summary>
    /// Trees per forest; null means the profile's default: 100 for "kda" (KDA's RANDOM_CUT_FOREST default) and 50 for
    /// "default" (the AWS random-cut-forest library's own default since 3.0). Each tree costs about the same, and the
    /// forest is the pipeline's most expensive step per review.
    /// </summary>
    public int? AnomalyTrees { get; set; }

    /// <summary>The tree count in force: <see cref="AnomalyTrees"/> or the profile's default.</summary>
    public int EffectiveAnomalyTrees => AnomalyTrees ?? (AnomalyProfile == AnomalyFeatures.KdaProfile ? 100 : 50);

    /// <summary>
    /// Forests (anomaly grains) the partitions feed: partition p feeds forest p mod AnomalyShards, so each forest sees
    /// a random share of the stream. Default 1: one forest over the whole stream (KDA's semantics), on
    /// <see cref="AnomalyThreads"/> threads. Measured on this project's 2-core machine with the batch path, one forest
    /// on 2 threads reached 101–114 % of two forests' throughput through the platform (the forest was not the limit
    /// there). More forests spread the work over silos; one per partition (16) did not fit the processor caches
    /// (20,000 points/s on one core against 60,000 for two forests of 50 trees). Never more than
    /// <see cref="Partitions"/>.
    /// </summary>
    public int AnomalyShards { get; set; } = StreamNames.DefaultAnomalyShards;

    /// <summary>The forest count in force: <see cref="AnomalyShards"/>, at most <see cref="Partitions"/>.</summary>
    public int EffectiveAnomalyShards => StreamNames.EffectiveAnomalyShards(AnomalyShards, Partitions);

    /// <summary>
    /// Threads each forest runs on: above 1, an anomaly grain scores and learns a delivery of at least
    /// <see cref="AnomalyBatchMinimum"/> points off the grain scheduler, its trees split into groups over this many
    /// threads (scores identical to one thread). One forest over the whole stream (<c>AnomalyShards=1</c>, KDA's
    /// semantics) can then use several cores. Default: the machine's processor count (at most 256).
    /// </summary>
    public int AnomalyThreads { get; set; } = Math.Min(Environment.ProcessorCount, 256);

    /// <summary>Points in one delivery from which a forest learns them in one batch rather than one by one.</summary>
    public const int AnomalyBatchMinimum = 64;

    /// <summary>The forest that partition <paramref name="partition"/> feeds.</summary>
    public int AnomalyShardOf(int partition) => StreamNames.AnomalyShardOf(partition, AnomalyShards, Partitions);

    public int AnomalySampleSize { get; set; } = 256;

    public int AnomalyShingleSize { get; set; } = 1;

    public double AnomalyTimeDecay { get; set; } = 1.0 / 100_000;

    /// <summary>How often anomaly grains persist their model.</summary>
    public TimeSpan AnomalySaveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether partitions carry each review's delivered fields to its anomaly shard, which hands the scored review to
    /// the silo's delivery. The silo sets it when the Delivery section names a destination.
    /// </summary>
    public bool DeliverScoredReviews { get; set; }

    /// <summary>
    /// Events enqueued before this (Unix ms) are skipped: Ingest:EventHubs:StartPosition given as a time, for a hub
    /// read from its start. Set by the silo.
    /// </summary>
    public long? EventsStartTimeMs { get; set; }

    /// <summary>Categories known in advance; when empty, a category counts as unknown the first time a partition sees it.</summary>
    public List<string> KnownCategories { get; set; } = [];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Require(Partitions is >= 1 and <= 4096, nameof(Partitions), "must be 1..4096");
        Require(WindowSize >= TimeSpan.FromMilliseconds(100), nameof(WindowSize), "must be at least 100 ms");
        Require(WindowReminderPeriod > TimeSpan.Zero, nameof(WindowReminderPeriod), "must be positive");
        Require(AllowedLateness >= TimeSpan.Zero, nameof(AllowedLateness), "must not be negative");
        Require(FlushInterval > TimeSpan.Zero, nameof(FlushInterval), "must be positive");
        Require(WindowTick > TimeSpan.Zero, nameof(WindowTick), "must be positive");
        Require(WindowTime != WindowTime.Processing || AllowedLateness > FlushInterval, nameof(AllowedLateness),
            "must exceed FlushInterval with processing time, or windows close before the partitions' pre-aggregates arrive");
        Require(HistoryWindows >= 1, nameof(HistoryWindows), "must be at least 1");
        Require(DedupHorizon > TimeSpan.Zero, nameof(DedupHorizon), "must be positive");
        Require(DedupCapacityPerPartition >= 2, nameof(DedupCapacityPerPartition), "must be at least 2");
        Require(MaxCategories is >= 1 and <= 1_000_000, nameof(MaxCategories), "must be 1..1000000");
        Require(CategoryIdleTimeout > TimeSpan.Zero, nameof(CategoryIdleTimeout), "must be positive");
        Require(PriorityMaxStars is >= 1 and <= 5, nameof(PriorityMaxStars), "must be 1..5");
        Require(PriorityQueueCapacity >= 1, nameof(PriorityQueueCapacity), "must be at least 1");
        Require(DeadLetterCapacity >= 1, nameof(DeadLetterCapacity), "must be at least 1");
        Require(StateWriteInterval >= TimeSpan.Zero && StateWriteInterval <= TimeSpan.FromSeconds(10), nameof(StateWriteInterval), "must be 0..10 s");
        Require(DistinctWindowsKept >= 1, nameof(DistinctWindowsKept), "must be at least 1");
        Require(AnomalyTrees is null or >= 1 and <= 1_000, nameof(AnomalyTrees), "must be 1..1000");
        Require(AnomalyShards is >= 1 and <= 4096, nameof(AnomalyShards), "must be 1..4096");
        Require(AnomalyThreads is >= 1 and <= 256, nameof(AnomalyThreads), "must be 1..256");
        Require(AnomalyFeatures.IsKnownProfile(AnomalyProfile), nameof(AnomalyProfile), $"must be one of: {string.Join(", ", AnomalyFeatures.Profiles)}");
        Require(AnomalySaveInterval > TimeSpan.Zero, nameof(AnomalySaveInterval), "must be positive");
        // The forest's own rules, checked here so that a bad value stops the silo at start instead of failing every
        // anomaly grain's activation while the partitions keep its observations pending.
        try
        {
            ForestOptions(AnomalyFeatures.NamesOf(AnomalyProfile).Count, seed: 0).Validate();
        }
        catch (ArgumentException ex)
        {
            var name = ex.ParamName switch
            {
                nameof(RandomCutForestOptions.SampleSize) => nameof(AnomalySampleSize),
                nameof(RandomCutForestOptions.ShingleSize) => nameof(AnomalyShingleSize),
                nameof(RandomCutForestOptions.TimeDecay) => nameof(AnomalyTimeDecay),
                _ => nameof(AnomalyTrees),
            };
            throw new ArgumentException($"{SectionName}:{name} is invalid for the anomaly forest: {ex.Message}", name, ex);
        }
    }

    /// <summary>The options of each anomaly grain's forest over <paramref name="dimensions"/> features.</summary>
    public RandomCutForestOptions ForestOptions(int dimensions, long seed) => new()
    {
        Dimensions = dimensions,
        NumberOfTrees = EffectiveAnomalyTrees,
        SampleSize = AnomalySampleSize,
        ShingleSize = AnomalyShingleSize,
        TimeDecay = AnomalyTimeDecay,
        Seed = seed,
    };

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"{SectionName}:{name} {rule}", name);
        }
    }
}
