using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReviewOrleans.Contracts.Telemetry;

/// <summary>
/// The platform's own meter and activity source: what operators' metrics stacks (Prometheus, OpenTelemetry) see of
/// the pipeline. Counters are per process, as Prometheus expects; a scrape of every silo and gateway adds up to the
/// cluster's figures. Instruments record nothing until a listener (the OpenTelemetry SDK) subscribes.
/// </summary>
public static class ReviewTelemetry
{
    public const string Name = "ReviewOrleans";

    public static readonly Meter Meter = new(Name, typeof(ReviewTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly ActivitySource Source = new(Name, typeof(ReviewTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Reviews taken by a partition (scored, logged, on their way to windows, counts and forests).</summary>
    public static readonly Counter<long> Accepted = Meter.CreateCounter<long>(
        "revieworleans.reviews.accepted", "{review}", "Reviews accepted and scored by the partitions");

    /// <summary>Reviews refused, tagged with <c>reason</c> (the rule's code, e.g. review_body.required) and <c>stage</c>.</summary>
    public static readonly Counter<long> Refused = Meter.CreateCounter<long>(
        "revieworleans.reviews.refused", "{review}", "Reviews refused, by reason and stage (gateway, partition, window)");

    /// <summary>Reviews dropped as re-sent review_ids.</summary>
    public static readonly Counter<long> Duplicates = Meter.CreateCounter<long>(
        "revieworleans.reviews.duplicates", "{review}", "Reviews dropped because their review_id was seen recently");

    /// <summary>One model run over a batch.</summary>
    public static readonly Histogram<double> ScoringDuration = Meter.CreateHistogram<double>(
        "revieworleans.scoring.duration", "ms", "Time of one sentiment model run over a partition's batch",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] });

    /// <summary>Per review: from the gateway taking it to its score being logged by its partition.</summary>
    public static readonly Histogram<double> IngestToScored = Meter.CreateHistogram<double>(
        "revieworleans.latency.ingest_to_scored", "ms", "Per review, from the gateway taking it to its partition logging its score",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary>Per partial (one partition's reviews of one window in one flush): from its newest review's ingest to its merge.</summary>
    public static readonly Histogram<double> IngestToWindow = Meter.CreateHistogram<double>(
        "revieworleans.latency.ingest_to_window", "ms", "From a review's ingest to its merge into its category's window (newest review of each partial)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary>The latest anomaly grade of each forest (tag <c>shard</c>): 0 normal, towards 1 anomalous.</summary>
    public static readonly Gauge<double> AnomalyGrade = Meter.CreateGauge<double>(
        "revieworleans.anomaly.grade", null, "Latest anomaly grade of each forest (0 normal, up to 1)");

    /// <summary>Alerts raised by the forests.</summary>
    public static readonly Counter<long> Alerts = Meter.CreateCounter<long>(
        "revieworleans.anomaly.alerts", "{alert}", "Anomaly alerts raised");

    /// <summary>Alert rules' alerts firing and resolving (tags <c>rule</c>, <c>event</c>: fired or resolved).</summary>
    public static readonly Counter<long> RuleAlerts = Meter.CreateCounter<long>(
        "revieworleans.alerts", "{alert}", "Alert rules' alerts fired and resolved");

    private static double[] LatencyBuckets => [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

    /// <summary>Counts refusals, one tag set per distinct reason.</summary>
    public static void RecordRefused(string reason, string stage, long count = 1)
    {
        if (Refused.Enabled)
        {
            Refused.Add(count, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("stage", stage));
        }
    }
}
