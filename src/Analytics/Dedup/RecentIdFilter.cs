namespace ReviewOrleans.Analytics.Dedup;

/// <summary>
/// Remembers the 64-bit hashes of recently seen ids in two generations, so that an id seen again within the
/// horizon is recognised while memory stays bounded. A generation retires when it is older than half the horizon
/// or holds half the capacity; an id is remembered for at least <c>horizon/2</c> and at least <c>capacity/2</c>
/// further ids, and for at most <c>horizon</c>. Like Bloom-filter rotation schemes, but exact within the window.
/// </summary>
/// <remarks>Two different ids collide with probability about n/2^64 (n ids in memory): negligible at these sizes.</remarks>
public sealed class RecentIdFilter
{
    private readonly long _halfHorizonMs;
    private readonly int _generationCapacity;
    private HashSet<ulong> _current;
    private HashSet<ulong> _previous;
    private long _currentStartedMs;

    /// <param name="horizon">How long an id is remembered at most (at least half of it).</param>
    /// <param name="capacity">How many ids are remembered at most (at least half of it).</param>
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
        _currentStartedMs = nowMs;
    }

    /// <summary>Ids currently remembered.</summary>
    public int Count => _current.Count + _previous.Count;

    /// <summary>Records <paramref name="idHash"/>; false when it was already seen within the horizon.</summary>
    public bool TryAdd(ulong idHash, long nowMs)
    {
        if (nowMs - _currentStartedMs >= _halfHorizonMs || _current.Count >= _generationCapacity)
        {
            Rotate(nowMs);
        }
        if (_previous.Contains(idHash))
        {
            return false;
        }
        return _current.Add(idHash);
    }

    private void Rotate(long nowMs)
    {
        // A generation idle for a whole horizon holds nothing worth keeping.
        var stale = nowMs - _currentStartedMs >= 2 * _halfHorizonMs;
        (_previous, _current) = (_current, _previous);
        _current.Clear();
        if (stale)
        {
            _previous.Clear();
        }
        _currentStartedMs = nowMs;
    }
}
