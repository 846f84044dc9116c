namespace ReviewOrleans.Contracts.Grains;

/// <summary>An alert rule as the alert grain takes and returns it (see ReviewOrleans.Alerting.AlertRule for the meaning).</summary>
[GenerateSerializer, Alias("alert-rule.v1")]
public sealed record AlertRuleRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] string Kind,
    [property: Id(2)] double Threshold,
    [property: Id(3)] int Windows,
    [property: Id(4)] string Category,
    [property: Id(5)] int MinReviews,
    [property: Id(6)] int SilenceSeconds,
    [property: Id(7)] bool Disabled);

/// <summary>One alert event's notification to one webhook.</summary>
[GenerateSerializer, Alias("alert-delivery.v1")]
public sealed record AlertDeliveryRecord(
    [property: Id(0)] string Target,
    [property: Id(1)] string Event,
    [property: Id(2)] string State,
    [property: Id(3)] int Attempts,
    [property: Id(4)] string LastError,
    [property: Id(5)] long LastAttemptMs,
    [property: Id(6)] long NextAttemptMs);

/// <summary>A rule's alert, firing or resolved, as listed and as published on the "alert-events" stream.</summary>
[GenerateSerializer, Alias("alert.v1")]
public sealed class AlertRecord
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public string Rule { get; set; } = "";
    [Id(2)] public string Kind { get; set; } = "";
    /// <summary>firing or resolved.</summary>
    [Id(3)] public string State { get; set; } = "";
    [Id(4)] public string Category { get; set; } = "";
    [Id(5)] public string Summary { get; set; } = "";
    [Id(6)] public double Value { get; set; }
    [Id(7)] public double Threshold { get; set; }
    [Id(8)] public long FiredMs { get; set; }
    /// <summary>0 while firing.</summary>
    [Id(9)] public long ResolvedMs { get; set; }
    [Id(10)] public long WindowStartMs { get; set; }
    [Id(11)] public List<FeatureAttributionRecord> Attribution { get; set; } = [];
    [Id(12)] public List<AlertDeliveryRecord> Deliveries { get; set; } = [];
}

/// <summary>The alerts firing now, and the most recent ones (newest first, firing ones included).</summary>
[GenerateSerializer, Alias("alert-list.v1")]
public sealed record AlertList(
    [property: Id(0)] List<AlertRecord> Firing,
    [property: Id(1)] List<AlertRecord> Recent);

/// <summary>One window of an anomaly shard: the highest grade and score of the reviews scored in it.</summary>
[GenerateSerializer, Alias("anomaly-grade-window.v1")]
public sealed class AnomalyGradeWindowRecord
{
    [Id(0)] public long StartMs { get; set; }
    [Id(1)] public long EndMs { get; set; }
    [Id(2)] public double MaxGrade { get; set; }
    [Id(3)] public double MaxScore { get; set; }
    [Id(4)] public long Points { get; set; }
    /// <summary>Detections (the grade rising from zero) in the window.</summary>
    [Id(5)] public int Detections { get; set; }
}
