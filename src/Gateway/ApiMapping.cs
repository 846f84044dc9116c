using Google.Protobuf.WellKnownTypes;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Gateway;

/// <summary>Maps between the gRPC messages and the grain-side records. Nothing else in the gateway knows both.</summary>
public static class ApiMapping
{
    public static WindowMetrics ToApi(WindowSnapshot window)
    {
        var metrics = new WindowMetrics
        {
            Category = window.Category,
            WindowStartMs = window.StartMs,
            WindowEndMs = window.EndMs,
            Count = window.Count,
            SumExpectedStars = window.SumExpectedStars,
            AverageExpectedStars = window.AverageExpectedStars,
            NegativeShare = window.NegativeShare,
            IsUpdate = window.IsUpdate,
        };
        metrics.StarCounts.Add(window.StarCounts);
        return metrics;
    }

    public static AnomalyAlert ToApi(AnomalyAlertRecord alert)
    {
        var api = new AnomalyAlert
        {
            TimeMs = alert.TimeMs,
            Score = alert.Score,
            Grade = alert.Grade,
            AnomalyShard = alert.Shard,
            ReviewId = alert.ReviewId,
            Category = alert.Category,
        };
        api.Attribution.AddRange(alert.Attribution.Select(a => new FeatureAttribution
        {
            Feature = a.Feature,
            Attribution = a.Attribution,
            Strength = a.Strength,
            Direction = a.Direction,
        }));
        return api;
    }

    public static Alert ToApi(AlertRecord alert)
    {
        var api = new Alert
        {
            Id = alert.Id,
            Rule = alert.Rule,
            Kind = alert.Kind,
            State = alert.State,
            Category = alert.Category,
            Summary = alert.Summary,
            Value = alert.Value,
            Threshold = alert.Threshold,
            FiredMs = alert.FiredMs,
            ResolvedMs = alert.ResolvedMs,
            WindowStartMs = alert.WindowStartMs,
        };
        api.Attribution.AddRange(alert.Attribution.Select(a => new FeatureAttribution
        {
            Feature = a.Feature,
            Attribution = a.Attribution,
            Strength = a.Strength,
            Direction = a.Direction,
        }));
        api.Deliveries.AddRange(alert.Deliveries.Select(d => new AlertDelivery
        {
            Target = d.Target,
            Event = d.Event,
            State = d.State,
            Attempts = d.Attempts,
            LastError = d.LastError,
            LastAttemptMs = d.LastAttemptMs,
            NextAttemptMs = d.NextAttemptMs,
        }));
        return api;
    }

    public static AlertRule ToApi(AlertRuleRecord rule) => new()
    {
        Name = rule.Name,
        Kind = rule.Kind,
        Threshold = rule.Threshold,
        Windows = rule.Windows,
        Category = rule.Category,
        MinReviews = rule.MinReviews,
        SilenceSeconds = rule.SilenceSeconds,
        Disabled = rule.Disabled,
    };

    public static AlertRuleRecord FromApi(AlertRule rule) =>
        new(rule.Name, rule.Kind, rule.Threshold, rule.Windows, rule.Category, rule.MinReviews, rule.SilenceSeconds, rule.Disabled);

    public static AnomalyGradeWindow ToApi(AnomalyGradeWindowRecord window) => new()
    {
        StartMs = window.StartMs,
        EndMs = window.EndMs,
        MaxGrade = window.MaxGrade,
        MaxScore = window.MaxScore,
        Points = window.Points,
        Detections = window.Detections,
    };

    public static PriorityReview ToApi(PriorityReviewRecord review) => new()
    {
        ReviewId = review.ReviewId,
        Category = review.Category,
        PredictedStars = review.PredictedStars,
        ExpectedStars = review.ExpectedStars,
        ReviewHeadline = review.ReviewHeadline ?? "",
        ReviewBody = review.ReviewBody,
        CustomerId = review.CustomerId ?? "",
        Source = review.Source ?? "",
        ReceivedMs = review.ReceivedMs,
    };

    public static DeadLetter ToApi(DeadLetterRecord deadLetter) => new()
    {
        TimeMs = deadLetter.TimeMs,
        ReviewId = deadLetter.ReviewId,
        Field = deadLetter.Field,
        Rule = deadLetter.Rule,
        Message = deadLetter.Message,
        Stage = deadLetter.Stage,
        Raw = deadLetter.Raw,
    };

    public static GetCountsResponse ToApi(CountReport report)
    {
        var response = new GetCountsResponse
        {
            TotalReviews = report.TotalReviews,
            RejectedReviews = report.RejectedReviews,
            DuplicateReviews = report.DuplicateReviews,
            AllTimeDistinctReviews = report.AllTimeDistinctReviews,
        };
        response.PerCategory.Add(report.PerCategory);
        response.PerSource.Add(report.PerSource);
        response.Windows.AddRange(report.Windows.Select(w => new DistinctWindow
        {
            WindowStartMs = w.StartMs,
            WindowEndMs = w.EndMs,
            DistinctReviews = w.DistinctReviews,
            Exact = w.Exact,
        }));
        return response;
    }

    public static ScoredReviewRow ToApi(Delivery.ScoredReview review)
    {
        var row = new ScoredReviewRow
        {
            ReviewId = review.ReviewId,
            Category = review.Category,
            Source = review.Source,
            StarRating = review.StarRating ?? 0,
            PredictedStars = review.PredictedStars,
            ExpectedStars = review.ExpectedStars,
            IngestedAt = Time(review.IngestedAtMs),
            EventTime = review.EventTimeMs is { } eventTime ? Time(eventTime) : null,
            ModelVersion = review.ModelVersion,
        };
        row.Probabilities.Add(review.Probabilities);
        if (review.AnomalyScore is { } score)
        {
            row.AnomalyScore = score;
        }
        return row;
    }

    public static DestinationStatus ToApi(DeliveryStatusRecord status) => new()
    {
        Silo = status.Silo,
        Destination = status.Destination,
        Delivered = status.Delivered,
        DeadLettered = status.DeadLettered,
        Failures = status.Failures,
        Retries = status.Retries,
        BufferedRecords = status.BufferedRecords,
        BufferedBytes = status.BufferedBytes,
        OldestBufferedAgeMs = status.OldestBufferedAgeMs,
        LastLagMs = status.LastLagMs,
        LastDeliveredAt = status.LastDeliveredAtMs > 0 ? Time(status.LastDeliveredAtMs) : null,
        LastError = status.LastError,
        LastErrorAt = status.LastErrorAtMs > 0 ? Time(status.LastErrorAtMs) : null,
    };

    private static Timestamp Time(long unixMs) => Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
}
