namespace ReviewOrleans.Contracts.Grains;

/// <summary>Names shared by producers and consumers of the platform's Orleans streams.</summary>
public static class StreamNames
{
    /// <summary>The stream provider's name, whatever its kind (memory by default, Event Hubs optional).</summary>
    public const string Provider = "ReviewStreams";

    /// <summary>
    /// Setting for the memory streams' queue count. Every process that publishes or pulls (silos, standalone
    /// gateways) must use the same count: the queue a stream maps to, and so the queue grain written to, depends on
    /// it, and items sent to a queue that no silo pulls are lost without an error.
    /// </summary>
    public const string QueuesSetting = "Streams:Queues";

    /// <summary>Orleans' own default queue count, kept as the default here.</summary>
    public const int DefaultQueues = 8;

    /// <summary>Incoming reviews, keyed by partition number (0..P-1); each item is a <see cref="Reviews.ReviewBatch"/>.</summary>
    public const string Reviews = "reviews";

    /// <summary>Closed windows of every category on one stream (key <see cref="AllKey"/>); each item is a <see cref="WindowSnapshot"/>.</summary>
    public const string Metrics = "metrics";

    /// <summary>Anomaly alerts on one stream (key <see cref="AllKey"/>); each item is an <see cref="AnomalyAlertRecord"/>.</summary>
    public const string Alerts = "alerts";

    /// <summary>The alert rules' alerts as they fire and resolve (key <see cref="AllKey"/>); each item is an <see cref="AlertRecord"/>.</summary>
    public const string AlertEvents = "alert-events";

    public const string AllKey = "all";

    /// <summary>The stream provider that reads producers' own events from Event Hubs (Ingest:EventHubs), apart from <see cref="Provider"/>.</summary>
    public const string EventsProvider = "ReviewEvents";

    /// <summary>Producers' events, keyed by Event Hubs partition id; each item is a <see cref="RawReviewEvent"/>.</summary>
    public const string Events = "review-events";

    /// <summary>The category grain that aggregates every review, whatever its category.</summary>
    public const string AllCategories = "All";

    /// <summary>
    /// The partition of a review: XxHash3 of its review_id's UTF-8 bytes, modulo the partition count, so a re-sent
    /// review always lands on the grain that has seen it (de-duplication is per partition).
    /// </summary>
    public static int PartitionOf(string reviewId, int partitions)
    {
        Span<byte> buffer = stackalloc byte[256];
        var count = System.Text.Encoding.UTF8.GetBytes(reviewId.AsSpan(0, Math.Min(reviewId.Length, 64)), buffer);
        return (int)(System.IO.Hashing.XxHash3.HashToUInt64(buffer[..count]) % (ulong)partitions);
    }

    /// <summary>Default of Pipeline:Partitions, the stream keys (and partition grains) reviews are spread over.</summary>
    public const int DefaultPartitions = 16;

    /// <summary>
    /// Default of Pipeline:AnomalyShards, the anomaly grains (forests) the partitions feed: one forest over the whole
    /// stream, as KDA's RANDOM_CUT_FOREST was, running on all of its silo's cores (Pipeline:AnomalyThreads).
    /// </summary>
    public const int DefaultAnomalyShards = 1;

    /// <summary>Anomaly grains in use: the configured shards, at most one per partition.</summary>
    public static int EffectiveAnomalyShards(int anomalyShards, int partitions) => Math.Min(anomalyShards, partitions);

    /// <summary>The anomaly grain that partition <paramref name="partition"/> feeds.</summary>
    public static int AnomalyShardOf(int partition, int anomalyShards, int partitions) =>
        partition % EffectiveAnomalyShards(anomalyShards, partitions);
}
