using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Gateway;

/// <summary>Settings of the gateway, bound from configuration section "Gateway" (Partitions and AnomalyShards from "Pipeline").</summary>
public sealed class GatewayOptions
{
    /// <summary>Stream keys to spread reviews over; must match the silos' Pipeline:Partitions.</summary>
    public int Partitions { get; set; } = StreamNames.DefaultPartitions;

    /// <summary>Anomaly grains to ask for GetAnomaly; must match the silos' Pipeline:AnomalyShards.</summary>
    public int AnomalyShards { get; set; } = StreamNames.DefaultAnomalyShards;

    /// <summary>Anomaly grains in use (at most one per partition).</summary>
    public int EffectiveAnomalyShards => StreamNames.EffectiveAnomalyShards(AnomalyShards, Partitions);

    /// <summary>The silos' Pipeline:WindowSize, for the dashboard's time axis and GetAnomalyGrades.</summary>
    public TimeSpan WindowSize { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most records accepted in one PutReviews call (Kinesis PutRecordBatch allows 500).</summary>
    public int MaxBatchRecords { get; set; } = 10_000;

    /// <summary>
    /// Largest gRPC message accepted, in bytes (16 MiB: 10,000 reviews of 1.6 KB). Checked from the message's
    /// length prefix before it is read or parsed; Kestrel's request-body limit is set from it.
    /// </summary>
    public int MaxRequestBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Buffered items per watcher of WatchMetrics/WatchAlerts before the oldest are dropped for that watcher.</summary>
    public int WatchBuffer { get; set; } = 10_000;

    /// <summary>How often the gateway checks that its stream subscriptions (WatchMetrics, WatchAlerts) are still registered.</summary>
    public TimeSpan WatchCheckInterval { get; set; } = TimeSpan.FromSeconds(10);
}
