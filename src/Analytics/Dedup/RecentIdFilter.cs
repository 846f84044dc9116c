namespace ReviewOrleans.Analytics.Dedup;

/// <summary>
/// Remembers the 64-bit hashes of recently seen ids in two generations, so that an id seen again within the
/// horizon is recognised while memory stays bounded. Generations follow a fixed schedule of half-horizon periods
/// (time 0, horizon/2, horizon, …): the current generation takes the ids of the current period and the previous one
/// holds the period before, so an id is remembered for at least <c>horizon/2</c> and at most <c>horizon</c>. A
/// generation that reaches half the capacity retires early, so under heavy traffic an id is remembered for at least
/// <c>capacity/2</c> further ids instead, and never beyond the horizon. Like Bloom-filter rotation schemes, but exact
/// within the window.
/// </summary>
/// <remarks>Two different ids collide with probability about n/2^64 (n ids in memory): negligible at these sizes.</remarks>
public sealed class RecentIdFilter
{
    private readonly long _halfHorizonMs;
    private readonly int _generationCapacity;
    private HashSet<ulong> _current;
    private HashSet<ulong> _previous;
    private long _currentPeriod;

    /// <param name="horizon">How long an id is remembered at most (at least half of it, traffic permitting).</param>
    /// <param name="capacity">How many ids are remembered at most (at least half of it, horizon permitting).</param>
    /// <param name="nowMs">The clock's time at creation, in Unix milliseconds.</param>
    public RecentIdFilter(TimeSpan horizon, int capacity, long nowMs)
    {
        if (horizon <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "the horizon must be positive");
        }
        if (capacity < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the capacity must be at least 2");
        }
        _halfHorizonMs = Math.Max(1, (long)(horizon.TotalMilliseconds / 2));
        _generationCapacity = capacity / 2;
        _current = new HashSet<ulong>(Math.Min(_generationCapacity, 4096));
        _previous = new HashSet<ulong>();
        _currentPeriod = Period(nowMs);
    }

    /// <summary>Ids currently remembered.</summary>
    public int Count => _current.Count + _previous.Count;

    /// <summary>Records <paramref name="idHash"/>; false when it was already seen within the horizon.</summary>
    public bool TryAdd(ulong idHash, long nowMs)
    {
        var period = Period(nowMs);
        if (period > _currentPeriod)
        {
            // The previous generation survives only into the period right after the current one's.
            Rotate(keepCurrent: period == _currentPeriod + 1);
            _currentPeriod = period;
        }
        else if (_current.Count >= _generationCapacity)
        {
            Rotate(keepCurrent: true);
        }
        if (_previous.Contains(idHash))
        {
            return false;
        }
        return _current.Add(idHash);
    }

    /// <summary>
    /// Forgets <paramref name="idHash"/>, which <see cref="TryAdd"/> has just accepted: for a caller whose processing
    /// of the id failed and will be retried, so that the retry is not taken for a duplicate.
    /// </summary>
    public void Remove(ulong idHash)
    {
        _current.Remove(idHash);
        _previous.Remove(idHash);
    }

    /// <summary>Index of the half-horizon period holding <paramref name="nowMs"/> (floor division, so negative times work).</summary>
    private long Period(long nowMs)
    {
        var period = nowMs / _halfHorizonMs;
        return nowMs % _halfHorizonMs < 0 ? period - 1 : period;
    }

    private void Rotate(bool keepCurrent)
    {
        (_previous, _current) = (_current, _previous);
        _current.Clear();
        if (!keepCurrent)
        {
            _previous.Clear();
        }
    }
}
