namespace ReviewOrleans.Delivery;

/// <summary>
/// One review as the pipeline scored it: what the destinations store (a <c>scored_reviews</c> row, a JSON line).
/// </summary>
public sealed class ScoredReview
{
    public required string ReviewId { get; init; }
    public required string Category { get; init; }
    public required string Source { get; init; }

    /// <summary>The customer's own rating, when the review carried one.</summary>
    public int? StarRating { get; init; }

    public int PredictedStars { get; init; }

    /// <summary>P(1 star) … P(5 stars).</summary>
    public required float[] Probabilities { get; init; }

    public float ExpectedStars { get; init; }

    /// <summary>The Random Cut Forest's score when the review was seen; null when its shard could not score it.</summary>
    public double? AnomalyScore { get; init; }

    public long IngestedAtMs { get; init; }
    public long? EventTimeMs { get; init; }
    public required string ModelVersion { get; init; }

    /// <summary>A cheap upper estimate of the record's size in a destination, for buffering by bytes.</summary>
    public int EstimatedBytes => 200 + 2 * (ReviewId.Length + Category.Length + Source.Length + ModelVersion.Length);
}
