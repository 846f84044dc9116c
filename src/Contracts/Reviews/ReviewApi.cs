using Google.Protobuf.WellKnownTypes;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>Maps a review between its gRPC message (<see cref="Review"/>) and the stream record (<see cref="ReviewMessage"/>).</summary>
public static class ReviewApi
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
        EventTimeMs = review.EventTime is { } t ? EventTimeMs(t) : null,
    };

    /// <summary>
    /// Unix milliseconds of a protobuf Timestamp. Seconds beyond a Timestamp's range (years 1–9999) or nanos outside
    /// 0..999,999,999 would overflow or mislead, so they map to long.MinValue, which validation refuses as
    /// event_time.out_of_range, instead of wrapping into a plausible time.
    /// </summary>
    private static long EventTimeMs(Google.Protobuf.WellKnownTypes.Timestamp time) =>
        time.Seconds is >= -62_135_596_800 and <= 253_402_300_799 && time.Nanos is >= 0 and <= 999_999_999
            ? (time.Seconds * 1000) + (time.Nanos / 1_000_000)
            : long.MinValue;

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

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
