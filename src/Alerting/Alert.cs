namespace ReviewOrleans.Alerting;

/// <summary>One feature's share of an anomaly score, carried by anomaly_grade alerts.</summary>
public sealed record AlertAttribution(string Feature, double Attribution, double Strength, string Direction);

/// <summary>One firing of a rule, from the window its condition first held until it resolves.</summary>
public sealed class Alert
{
    /// <summary>"{rule}/{category}/{window start}": stable for one firing, so that receivers can de-duplicate.</summary>
    public string Id { get; set; } = "";
    public string Rule { get; set; } = "";
    public string Kind { get; set; } = "";
    /// <summary>The category it is about; empty for rules over the whole stream.</summary>
    public string Category { get; set; } = "";
    public string Summary { get; set; } = "";
    /// <summary>The value that fired it: grade, share, percent of the hour's mean or seconds of silence.</summary>
    public double Value { get; set; }
    public double Threshold { get; set; }
    public long FiredMs { get; set; }
    /// <summary>Null while firing.</summary>
    public long? ResolvedMs { get; set; }
    public long WindowStartMs { get; set; }
    public List<AlertAttribution> Attribution { get; set; } = [];

    public bool IsFiring => ResolvedMs is null;

    public string State => IsFiring ? AlertEvents.FiringState : AlertEvents.ResolvedState;

    public Alert Clone()
    {
        var copy = (Alert)MemberwiseClone();
        copy.Attribution = [.. Attribution];
        return copy;
    }
}

/// <summary>What happened to an alert: it fired, or it resolved.</summary>
public sealed record AlertChange(Alert Alert, string Event);

public static class AlertEvents
{
    public const string Fired = "fired";
    public const string Resolved = "resolved";
    public const string FiringState = "firing";
    public const string ResolvedState = "resolved";
}
