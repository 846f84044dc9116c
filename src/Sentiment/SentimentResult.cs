namespace ReviewOrleans.Sentiment;

/// <summary>
/// Sentiment of one text: a probability for each star rating 1–5 and the figures derived from them.
/// A value type so that a batch of results is one array with no per-review objects.
/// </summary>
public readonly struct SentimentResult
{
    /// <summary>Number of classes (star ratings 1..5).</summary>
    public const int StarCount = 5;

    private readonly float _p1, _p2, _p3, _p4, _p5;

    /// <summary>Creates a result from the five star probabilities (index 0 is 1 star); they should sum to 1.</summary>
    public SentimentResult(ReadOnlySpan<float> probabilities, SentimentModelInfo model)
    {
        if (probabilities.Length != StarCount)
        {
            throw new ArgumentException($"expected {StarCount} probabilities, got {probabilities.Length}", nameof(probabilities));
        }
        ArgumentNullException.ThrowIfNull(model);
        _p1 = probabilities[0];
        _p2 = probabilities[1];
        _p3 = probabilities[2];
        _p4 = probabilities[3];
        _p5 = probabilities[4];
        Model = model;
    }

    /// <summary>The model that produced this result (shared by every result of one scorer).</summary>
    public SentimentModelInfo Model { get; }

    /// <summary>Probability of <paramref name="stars"/> (1..5).</summary>
    public float Probability(int stars) => stars switch
    {
        1 => _p1,
        2 => _p2,
        3 => _p3,
        4 => _p4,
        5 => _p5,
        _ => throw new ArgumentOutOfRangeException(nameof(stars), stars, "stars must be 1..5"),
    };

    /// <summary>Copies the five probabilities (1 star first) into <paramref name="destination"/>.</summary>
    public void CopyProbabilitiesTo(Span<float> destination)
    {
        if (destination.Length < StarCount)
        {
            throw new ArgumentException($"destination needs room for {StarCount} values", nameof(destination));
        }
        destination[0] = _p1;
        destination[1] = _p2;
        destination[2] = _p3;
        destination[3] = _p4;
        destination[4] = _p5;
    }

    /// <summary>The most probable star rating (1..5); ties go to the lower rating.</summary>
    public int PredictedStars
    {
        get
        {
            var best = 1;
            var bestP = _p1;
            if (_p2 > bestP) { best = 2; bestP = _p2; }
            if (_p3 > bestP) { best = 3; bestP = _p3; }
            if (_p4 > bestP) { best = 4; bestP = _p4; }
            if (_p5 > bestP) { best = 5; }
            return best;
        }
    }

    /// <summary>Expected star rating Σ p(k)·k in [1, 5]; this is the figure to average across reviews.</summary>
    public float ExpectedStars => _p1 + 2 * _p2 + 3 * _p3 + 4 * _p4 + 5 * _p5;

    /// <summary>Sentiment score in [-1, 1]: (<see cref="ExpectedStars"/> − 3) / 2, so 1 star is −1 and 5 stars is +1.</summary>
    public float Score => (ExpectedStars - 3f) / 2f;

    /// <summary>Confidence in [0.2, 1]: the probability of <see cref="PredictedStars"/> (the largest probability).</summary>
    public float Confidence => MathF.Max(MathF.Max(MathF.Max(_p1, _p2), MathF.Max(_p3, _p4)), _p5);

    /// <summary>Probability that the review is positive (4 or 5 stars).</summary>
    public float PositiveProbability => _p4 + _p5;

    /// <summary>Probability that the review is negative (1 or 2 stars).</summary>
    public float NegativeProbability => _p1 + _p2;

    /// <summary>Binary decision used for the ≥4 vs ≤2 accuracy: positive when p(4)+p(5) ≥ p(1)+p(2).</summary>
    public bool IsPositive => PositiveProbability >= NegativeProbability;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{PredictedStars}★ (expected {ExpectedStars:0.00}, p=[{_p1:0.000} {_p2:0.000} {_p3:0.000} {_p4:0.000} {_p5:0.000}])";
}
