namespace ReviewOrleans.Analytics.Windows;

/// <summary>
/// Count, sum and star distribution of the values that fell into one window. Aggregates are mergeable, so
/// producers can pre-aggregate and a window's owner adds the partial aggregates up.
/// </summary>
public sealed class WindowAggregate
{
    /// <summary>Stars run 1..5; index 0 of <see cref="StarCounts"/> holds 1-star values.</summary>
    public const int StarLevels = 5;

    private readonly long[] _starCounts = new long[StarLevels];

    /// <summary>Number of values added.</summary>
    public long Count { get; private set; }

    /// <summary>Sum of the values added.</summary>
    public double Sum { get; private set; }

    /// <summary>Values per star level (1..5 at indices 0..4).</summary>
    public IReadOnlyList<long> StarCounts => _starCounts;

    /// <summary>Mean of the values; 0 for an empty window.</summary>
    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>Values at 1 or 2 stars.</summary>
    public long NegativeCount => _starCounts[0] + _starCounts[1];

    /// <summary>Share of values at 1 or 2 stars; 0 for an empty window.</summary>
    public double NegativeShare => Count == 0 ? 0 : (double)NegativeCount / Count;

    /// <summary>Adds one value with its star level (1..5).</summary>
    public void Add(double value, int stars)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "window values must be finite");
        }
        if (stars is < 1 or > StarLevels)
        {
            throw new ArgumentOutOfRangeException(nameof(stars), stars, "stars must be 1..5");
        }
        Count++;
        Sum += value;
        _starCounts[stars - 1]++;
    }

    /// <summary>Adds another aggregate's values to this one.</summary>
    public void Merge(WindowAggregate other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Count += other.Count;
        Sum += other.Sum;
        for (var i = 0; i < StarLevels; i++)
        {
            _starCounts[i] += other._starCounts[i];
        }
    }

    /// <summary>Rebuilds an aggregate from its parts (for state restore and wire formats).</summary>
    /// <exception cref="ArgumentException">
    /// The parts cannot come from <see cref="Add"/>: a negative count, a non-finite sum, or star counts that are
    /// negative or do not add up to the count. Such a partial would poison every later mean of its window.
    /// </exception>
    public static WindowAggregate FromParts(long count, double sum, ReadOnlySpan<long> starCounts)
    {
        if (starCounts.Length != StarLevels)
        {
            throw new ArgumentException($"expected {StarLevels} star counts, got {starCounts.Length}", nameof(starCounts));
        }
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "a window count cannot be negative");
        }
        if (!double.IsFinite(sum))
        {
            throw new ArgumentOutOfRangeException(nameof(sum), sum, "a window sum must be finite");
        }
        long starTotal = 0;
        foreach (var stars in starCounts)
        {
            if (stars < 0)
            {
                throw new ArgumentException($"star counts cannot be negative (got {stars})", nameof(starCounts));
            }
            starTotal += stars;
        }
        if (starTotal != count)
        {
            throw new ArgumentException($"star counts add up to {starTotal}, not to the count {count}", nameof(starCounts));
        }
        var aggregate = new WindowAggregate { Count = count, Sum = sum };
        starCounts.CopyTo(aggregate._starCounts);
        return aggregate;
    }

    internal WindowAggregate Clone() => FromParts(Count, Sum, _starCounts);
}
