namespace ReviewOrleans.Contracts.Grains;

/// <summary>One review's anomaly features, in the order of the detector's feature names.</summary>
[GenerateSerializer, Alias("anomaly-observation.v1")]
public sealed class AnomalyObservation
{
    [Id(0)] public long TimeMs { get; set; }
    [Id(1)] public string ReviewId { get; set; } = "";
    [Id(2)] public string Category { get; set; } = "";
    [Id(3)] public double[] Features { get; set; } = [];

    /// <summary>What the delivery of scored reviews needs besides the anomaly score; null when no destination is configured.</summary>
    [Id(4)] public ScoredFields? Scored { get; set; }
}

/// <summary>A review's sentiment and identity as delivered (Delivery:*), carried to its anomaly shard, which adds the score.</summary>
[GenerateSerializer, Alias("scored-fields.v1")]
public sealed class ScoredFields
{
    [Id(0)] public string Source { get; set; } = "";
    [Id(1)] public int? StarRating { get; set; }
    [Id(2)] public int PredictedStars { get; set; }
    [Id(3)] public float[] Probabilities { get; set; } = [];
    [Id(4)] public float ExpectedStars { get; set; }
    [Id(5)] public long IngestedAtMs { get; set; }
    [Id(6)] public long? EventTimeMs { get; set; }
    [Id(7)] public string ModelVersion { get; set; } = "";
}

/// <summary>A silo's delivery of scored reviews to one destination (<c>reviewctl deliveries</c>).</summary>
[GenerateSerializer, Alias("delivery-status.v1")]
public sealed record DeliveryStatusRecord(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Destination,
    [property: Id(2)] long Delivered,
    [property: Id(3)] long DeadLettered,
    [property: Id(4)] long Failures,
    [property: Id(5)] long Retries,
    [property: Id(6)] long BufferedRecords,
    [property: Id(7)] long BufferedBytes,
    [property: Id(8)] long OldestBufferedAgeMs,
    [property: Id(9)] long LastLagMs,
    [property: Id(10)] long LastDeliveredAtMs,
    [property: Id(11)] string LastError,
    [property: Id(12)] long LastErrorAtMs);

/// <summary>One feature's share of an anomaly score (RANDOM_CUT_FOREST_WITH_EXPLANATION style).</summary>
[GenerateSerializer, Alias("feature-attribution.v1")]
public sealed record FeatureAttributionRecord(
    [property: Id(0)] string Feature,
    [property: Id(1)] double Attribution,
    [property: Id(2)] double Strength,
    [property: Id(3)] string Direction);

/// <summary>An alert raised when an anomaly shard's grade rises.</summary>
[GenerateSerializer, Alias("anomaly-alert.v1")]
public sealed class AnomalyAlertRecord
{
    [Id(0)] public long TimeMs { get; set; }
    [Id(1)] public double Score { get; set; }
    [Id(2)] public double Grade { get; set; }
    /// <summary>The anomaly shard (forest) that raised it. Stored alerts read by field id, so the rename from Partition keeps them.</summary>
    [Id(3)] public int Shard { get; set; }
    [Id(4)] public string ReviewId { get; set; } = "";
    [Id(5)] public string Category { get; set; } = "";
    [Id(6)] public List<FeatureAttributionRecord> Attribution { get; set; } = [];
}

/// <summary>A detector's current state for queries.</summary>
[GenerateSerializer, Alias("anomaly-status.v1")]
public sealed class AnomalyStatus
{
    [Id(0)] public string Profile { get; set; } = "";
    [Id(1)] public string[] Features { get; set; } = [];
    [Id(2)] public double Grade { get; set; }
    [Id(3)] public double Score { get; set; }
    [Id(4)] public long PointsSeen { get; set; }
    [Id(5)] public List<AnomalyAlertRecord> RecentAlerts { get; set; } = [];
}
