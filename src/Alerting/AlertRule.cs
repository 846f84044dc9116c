namespace ReviewOrleans.Alerting;

/// <summary>The conditions an <see cref="AlertRule"/> can watch, as named in configuration and on the API.</summary>
public static class AlertKinds
{
    /// <summary>A window's highest anomaly grade at or above the threshold (0..1).</summary>
    public const string AnomalyGrade = "anomaly_grade";

    /// <summary>A category's share of reviews predicted at 1-2 stars above the threshold (0..1).</summary>
    public const string NegativeShare = "negative_share";

    /// <summary>A category's reviews in a window below the threshold, in percent of its mean over the last hour.</summary>
    public const string VolumeDrop = "volume_drop";

    /// <summary>No review at all for <see cref="AlertRule.SilenceSeconds"/>.</summary>
    public const string NoReviews = "no_reviews";

    public static readonly IReadOnlyList<string> All = [AnomalyGrade, NegativeShare, VolumeDrop, NoReviews];

    /// <summary>Whether rules of this kind watch each category (or one) rather than the whole stream.</summary>
    public static bool IsPerCategory(string kind) => kind is NegativeShare or VolumeDrop;
}

/// <summary>
/// One alert rule, bound from configuration (Alerts:Rules:N:*) or replaced through the gateway. A rule fires once when
/// its condition has held for <see cref="Windows"/> closed windows in a row and resolves at the first window where it
/// no longer holds.
/// </summary>
public sealed class AlertRule
{
    /// <summary>Every category, each on its own.</summary>
    public const string EachCategory = "*";

    public string Name { get; set; } = "";

    /// <summary>One of <see cref="AlertKinds.All"/>.</summary>
    public string Kind { get; set; } = "";

    public double Threshold { get; set; }

    /// <summary>Closed windows in a row the condition must hold (K).</summary>
    public int Windows { get; set; } = 1;

    /// <summary>negative_share and volume_drop: one category, or <see cref="EachCategory"/>.</summary>
    public string Category { get; set; } = EachCategory;

    /// <summary>
    /// negative_share: windows with fewer reviews neither hold nor break a run (a share of 3 reviews is noise).
    /// volume_drop: the hour's reviews a category needs before its drops are judged.
    /// </summary>
    public int MinReviews { get; set; } = 10;

    /// <summary>no_reviews: seconds without a review (T).</summary>
    public int SilenceSeconds { get; set; }

    public bool Disabled { get; set; }

    /// <summary>What is wrong with these rules, each message naming the rule by its index and name, and the field.</summary>
    public static List<string> Check(IReadOnlyList<AlertRule> rules)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var at = $"rules[{i}]" + (rule.Name.Length > 0 ? $" ('{rule.Name}')" : "");
            void Fail(string field, string message) => errors.Add($"{at}.{field}: {message}");
            if (rule.Name.Length is 0 or > 100 || rule.Name.Any(char.IsControl))
            {
                Fail("name", "must be 1 to 100 characters, none a control character");
            }
            else if (!names.Add(rule.Name))
            {
                Fail("name", "is used by an earlier rule; names identify alerts and must be unique");
            }
            if (!AlertKinds.All.Contains(rule.Kind))
            {
                Fail("kind", $"must be one of {string.Join(", ", AlertKinds.All)}, got '{rule.Kind}'");
                continue;
            }
            if (rule.Kind != AlertKinds.NoReviews && rule.Windows is < 1 or > 1000)
            {
                Fail("windows", $"must be between 1 and 1000, got {rule.Windows}");
            }
            switch (rule.Kind)
            {
                case AlertKinds.AnomalyGrade or AlertKinds.NegativeShare when rule.Threshold is < 0 or > 1 || double.IsNaN(rule.Threshold):
                    Fail("threshold", $"must be between 0 and 1, got {rule.Threshold}");
                    break;
                case AlertKinds.VolumeDrop when rule.Threshold is <= 0 or >= 100 || double.IsNaN(rule.Threshold):
                    Fail("threshold", $"is a percentage of the last hour's mean and must be above 0 and below 100, got {rule.Threshold}");
                    break;
                case AlertKinds.NoReviews when rule.SilenceSeconds < 1:
                    Fail("silence_seconds", $"must be at least 1, got {rule.SilenceSeconds}");
                    break;
            }
            if (AlertKinds.IsPerCategory(rule.Kind))
            {
                if (rule.Category.Length is 0 or > 256)
                {
                    Fail("category", $"must be a category or '{EachCategory}' for each one");
                }
                if (rule.MinReviews < 0)
                {
                    Fail("min_reviews", $"must not be negative, got {rule.MinReviews}");
                }
            }
        }
        return errors;
    }

    public AlertRule Clone() => (AlertRule)MemberwiseClone();
}
