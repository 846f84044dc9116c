namespace ReviewOrleans.Contracts.Grains;

/// <summary>One review's anomaly features, in the order of the detector's feature names.</summary>
[GenerateSerializer, Alias("anomaly-observation.v1")]
public sealed class AnomalyObservation
{
    [Id(0)] public long TimeMs { get; set; }
    [Id(1)] public string ReviewId { get; set; } = "";
    [Id(2)] public string Category { get; set; } = "";
    [Id(3)] public double[] Features { get; set; } = [];
}

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
