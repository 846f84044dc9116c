using Google.Protobuf.WellKnownTypes;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Gateway;

/// <summary>Maps between the gRPC messages and the grain-side records. Nothing else in the gateway knows both.</summary>
public static class ApiMapping
{
    public static ReviewMessage ToMessage(Review review) => new()
    {
        Marketplace = NullIfEmpty(review.Marketplace),
        CustomerId = NullIfEmpty(review.CustomerId),
        ReviewId = review.ReviewId,
        ProductId = NullIfEmpty(review.ProductId),
        ProductParent = NullIfEmpty(review.ProductParent),
        ProductTitle = NullIfEmpty(review.ProductTitle),
        ProductCategory = review.ProductCategory,
        StarRating = review.HasStarRating ? review.StarRating : null,
        HelpfulVotes = review.HasHelpfulVotes ? review.HelpfulVotes : null,
        TotalVotes = review.HasTotalVotes ? review.TotalVotes : null,
        Vine = review.HasVine ? review.Vine : null,
        VerifiedPurchase = review.HasVerifiedPurchase ? review.VerifiedPurchase : null,
        ReviewHeadline = NullIfEmpty(review.ReviewHeadline),
        ReviewBody = review.ReviewBody,
        ReviewDate = NullIfEmpty(review.ReviewDate),
        Source = NullIfEmpty(review.Source),
        EventTimeMs = review.EventTime is { } t ? t.Seconds * 1000 + t.Nanos / 1_000_000 : null,
    };

    public static Review ToApi(ReviewMessage message)
    {
        var review = new Review
        {
            Marketplace = message.Marketplace ?? "",
            CustomerId = message.CustomerId ?? "",
            ReviewId = message.ReviewId,
            ProductId = message.ProductId ?? "",
            ProductParent = message.ProductParent ?? "",
            ProductTitle = message.ProductTitle ?? "",
            ProductCategory = message.ProductCategory,
            ReviewHeadline = message.ReviewHeadline ?? "",
            ReviewBody = message.ReviewBody,
            ReviewDate = message.ReviewDate ?? "",
            Source = message.Source ?? "",
        };
        if (message.StarRating is { } stars) review.StarRating = stars;
        if (message.HelpfulVotes is { } helpful) review.HelpfulVotes = helpful;
        if (message.TotalVotes is { } total) review.TotalVotes = total;
        if (message.Vine is { } vine) review.Vine = vine;
        if (message.VerifiedPurchase is { } verified) review.VerifiedPurchase = verified;
        if (message.EventTimeMs is { } ms) review.EventTime = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(ms));
        return review;
    }

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
            Partition = alert.Partition,
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

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
