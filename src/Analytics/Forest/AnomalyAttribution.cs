namespace ReviewOrleans.Analytics.Forest;

/// <summary>Which side of the sampled data a dimension pushed the point out of.</summary>
public enum AttributionDirection
{
    /// <summary>The value is above what the forest has seen (a spike).</summary>
    High,

    /// <summary>The value is below what the forest has seen (a dip).</summary>
    Low,
}

/// <summary>
/// Per-dimension split of an anomaly score into a high and a low part (the Java core's <c>DiVector</c>, as output
/// by KDA's <c>RANDOM_CUT_FOREST_WITH_EXPLANATION</c>). All parts together sum to <see cref="Score"/>.
/// </summary>
public sealed class AnomalyAttribution
{
    private readonly double[] _high;
    private readonly double[] _low;

    internal AnomalyAttribution(double[] high, double[] low)
    {
        _high = high;
        _low = low;
        double sum = 0;
        for (var i = 0; i < high.Length; i++)
        {
            sum += high[i] + low[i];
        }
        Score = sum;
    }

    /// <summary>The anomaly score the attribution splits (the sum of every dimension's attribution).</summary>
    public double Score { get; }

    /// <summary>Number of input dimensions.</summary>
    public int Dimensions => _high.Length;

    /// <summary>Part of the score due to <paramref name="dim"/> being above the data.</summary>
    public double High(int dim) => _high[CheckDim(dim)];

    /// <summary>Part of the score due to <paramref name="dim"/> being below the data.</summary>
    public double Low(int dim) => _low[CheckDim(dim)];

    /// <summary>High + low part of <paramref name="dim"/>.</summary>
    public double Attribution(int dim) => _high[CheckDim(dim)] + _low[dim];

    /// <summary>The larger of the two parts (High on a tie, as the Java core prints it).</summary>
    public AttributionDirection Direction(int dim) =>
        _high[CheckDim(dim)] >= _low[dim] ? AttributionDirection.High : AttributionDirection.Low;

    /// <summary>Share of the score attributed to <paramref name="dim"/>, in [0, 1]; 0 when the score is 0.</summary>
    public double Strength(int dim) => Score > 0 ? Math.Clamp(Attribution(dim) / Score, 0, 1) : 0;

    private int CheckDim(int dim) => (uint)dim < (uint)_high.Length
        ? dim
        : throw new ArgumentOutOfRangeException(nameof(dim), dim, $"The attribution has {_high.Length} dimension(s).");
}
