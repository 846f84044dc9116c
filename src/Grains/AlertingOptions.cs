using ReviewOrleans.Alerting;

namespace ReviewOrleans.Grains;

/// <summary>Alert rules, their webhooks and the alert grain's pace, bound from configuration section "Alerts".</summary>
public sealed class AlertingOptions
{
    public const string SectionName = "Alerts";

    /// <summary>The rules in force until replaced through the gateway (PutAlertRules), which then keeps them in state.</summary>
    public List<AlertRule> Rules { get; set; } = [];

    public List<WebhookTarget> Webhooks { get; set; } = [];

    /// <summary>
    /// How long after a window ends its judgment waits: category grains close a window Pipeline:AllowedLateness after
    /// its end (processing time), and their snapshots and the anomaly shards' grades must have arrived.
    /// </summary>
    public TimeSpan EvaluationDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often due webhook notifications are looked for (retries wait their backoff on top).</summary>
    public TimeSpan DispatchInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Resolved alerts kept for listing, newest.</summary>
    public int RecentKept { get; set; } = 200;

    public List<string> Check()
    {
        var errors = AlertRule.Check(Rules).Select(e => "Alerts:" + e).ToList();
        errors.AddRange(WebhookTarget.Check(Webhooks));
        if (EvaluationDelay < TimeSpan.Zero)
        {
            errors.Add("Alerts:EvaluationDelay must not be negative");
        }
        if (DispatchInterval <= TimeSpan.Zero)
        {
            errors.Add("Alerts:DispatchInterval must be positive");
        }
        if (RecentKept < 1)
        {
            errors.Add("Alerts:RecentKept must be at least 1");
        }
        return errors;
    }
}
