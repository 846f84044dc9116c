namespace ReviewOrleans.Gateway;

/// <summary>Settings of the gateway, bound from configuration section "Gateway" (Partitions from "Pipeline").</summary>
public sealed class GatewayOptions
{
    /// <summary>Stream keys to spread reviews over; must match the silos' Pipeline:Partitions.</summary>
    public int Partitions { get; set; } = 16;

    /// <summary>Most records accepted in one PutReviews call (Kinesis PutRecordBatch allows 500).</summary>
    public int MaxBatchRecords { get; set; } = 10_000;

    /// <summary>Buffered items per watcher of WatchMetrics/WatchAlerts before the oldest are dropped for that watcher.</summary>
    public int WatchBuffer { get; set; } = 10_000;
}
