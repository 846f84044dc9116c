using System.Buffers.Binary;

namespace ReviewOrleans.Analytics.Windows;

/// <summary>How an aggregator took a value or a partial aggregate.</summary>
public enum WindowAdmissionOutcome
{
    /// <summary>Added to a window that is still open.</summary>
    Accepted,

    /// <summary>Added to a window already emitted; the next <see cref="TumblingWindowAggregator.Advance"/> re-emits it as an update.</summary>
    UpdatedClosedWindow,

    /// <summary>Not added to any window: the caller must send it to its dead-letter output with <see cref="WindowAdmission.Reason"/>.</summary>
    Late,
}

/// <summary>The outcome of adding to an aggregator, with the reason when the value was late.</summary>
public readonly record struct WindowAdmission(WindowAdmissionOutcome Outcome, long WindowStartMs, string? Reason);

/// <summary>
/// Tumbling windows over processing time or event time, fed one value at a time or with partial aggregates that
/// producers built for one window. Windows are aligned to the Unix epoch, so producers and the aggregator agree
/// on boundaries without coordination. Not thread-safe: one owner (a grain) drives it.
/// </summary>
/// <remarks>
/// Event time follows the Dataflow model (Akidau et al., VLDB 2015, §2.3): the watermark is the highest
/// timestamp seen minus the allowed lateness; a window closes when the watermark reaches its end.
/// </remarks>
public sealed class TumblingWindowAggregator
{
    private const byte StateVersion = 1;

    private readonly long _sizeMs;
    private readonly long _latenessMs;
    private readonly long _horizonMs;
    private readonly SortedDictionary<long, WindowAggregate> _open = [];
    private readonly SortedDictionary<long, WindowAggregate> _emitted = [];
    private readonly SortedSet<long> _updated = [];

    // Windows ending at or before this boundary have been emitted; values for them are late.
    private long _closedThroughMs = long.MinValue;
    private long _maxTimestampMs = long.MinValue;

    public TumblingWindowAggregator(TumblingWindowOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _sizeMs = (long)options.Size.TotalMilliseconds;
        _latenessMs = (long)options.AllowedLateness.TotalMilliseconds;
        _horizonMs = (long)options.UpdateHorizon.TotalMilliseconds;
    }

    public TumblingWindowOptions Options { get; }

    /// <summary>Event time: highest timestamp seen minus the allowed lateness; <see cref="long.MinValue"/> before any value.</summary>
    public long WatermarkMs => _maxTimestampMs == long.MinValue ? long.MinValue : _maxTimestampMs - _latenessMs;

    /// <summary>Values (or partial aggregates' counts) refused as late since creation.</summary>
    public long LateCount { get; private set; }

    /// <summary>Windows currently open.</summary>
    public int OpenWindowCount => _open.Count;

    /// <summary>Start of the window holding <paramref name="timestampMs"/> (floor to the window size, also for negative times).</summary>
    public long WindowStartOf(long timestampMs) => WindowStartOf(timestampMs, _sizeMs);

    /// <inheritdoc cref="WindowStartOf(long)"/>
    public static long WindowStartOf(long timestampMs, long sizeMs) => timestampMs - ((timestampMs % sizeMs) + sizeMs) % sizeMs;

    /// <summary>Adds one value at <paramref name="timestampMs"/> (event or arrival time, per <see cref="TumblingWindowOptions.Time"/>).</summary>
    public WindowAdmission Add(long timestampMs, double value, int stars)
    {
        var start = WindowStartOf(timestampMs);
        var admission = Admit(start, timestampMs, 1, out var target);
        target?.Add(value, stars);
        return admission;
    }

    /// <summary>Adds a producer's partial aggregate for the window starting at <paramref name="windowStartMs"/>.</summary>
    /// <param name="maxTimestampMs">The newest timestamp inside the partial; drives the watermark in event time.</param>
    public WindowAdmission Merge(long windowStartMs, WindowAggregate partial, long maxTimestampMs)
    {
        ArgumentNullException.ThrowIfNull(partial);
        if (WindowStartOf(windowStartMs) != windowStartMs)
        {
            throw new ArgumentException($"window start {windowStartMs} is not aligned to the window size {_sizeMs} ms", nameof(windowStartMs));
        }
        if (maxTimestampMs < windowStartMs || maxTimestampMs >= windowStartMs + _sizeMs)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTimestampMs), maxTimestampMs, "the partial's newest timestamp must fall inside its window");
        }
        var admission = Admit(windowStartMs, maxTimestampMs, partial.Count, out var target);
        target?.Merge(partial);
        return admission;
    }

    /// <summary>
    /// Closes every open window whose end the clock (processing time: <paramref name="nowMs"/> minus the allowed
    /// lateness) or the watermark (event time) has passed, and returns them in start order, followed by any
    /// emitted windows that late values have updated since the last call.
    /// </summary>
    public IReadOnlyList<WindowResult> Advance(long nowMs)
    {
        var boundary = Options.Time == WindowTime.Processing ? nowMs - _latenessMs : WatermarkMs;
        var results = new List<WindowResult>();
        if (boundary == long.MinValue)
        {
            return results;
        }

        foreach (var start in _updated)
        {
            if (_emitted.TryGetValue(start, out var aggregate))
            {
                results.Add(new WindowResult(start, start + _sizeMs, aggregate.Clone(), WindowEmission.Update));
            }
        }
        _updated.Clear();

        List<long>? closing = null;
        foreach (var (start, _) in _open)
        {
            if (start + _sizeMs > boundary)
            {
                break;
            }
            (closing ??= []).Add(start);
        }
        if (closing is not null)
        {
            foreach (var start in closing)
            {
                var aggregate = _open[start];
                _open.Remove(start);
                _emitted[start] = aggregate;
                results.Add(new WindowResult(start, start + _sizeMs, aggregate.Clone(), WindowEmission.Final));
            }
        }

        _closedThroughMs = Math.Max(_closedThroughMs, WindowStartOf(boundary));
        EvictBeyondHorizon();
        results.Sort(static (a, b) => a.StartMs != b.StartMs ? a.StartMs.CompareTo(b.StartMs) : a.Emission.CompareTo(b.Emission));
        return results;
    }

    private WindowAdmission Admit(long start, long timestampMs, long count, out WindowAggregate? target)
    {
        if (timestampMs > _maxTimestampMs)
        {
            _maxTimestampMs = timestampMs;
        }

        if (start >= _closedThroughMs)
        {
            if (!_open.TryGetValue(start, out target))
            {
                target = new WindowAggregate();
                _open[start] = target;
            }
            return new WindowAdmission(WindowAdmissionOutcome.Accepted, start, null);
        }

        target = null;
        if (Options.LatePolicy == LateValuePolicy.DeadLetter)
        {
            LateCount += count;
            return new WindowAdmission(WindowAdmissionOutcome.Late, start,
                $"late: window [{start}, {start + _sizeMs}) ms closed at watermark {_closedThroughMs} ms");
        }
        if (start + _sizeMs < _closedThroughMs - _horizonMs)
        {
            LateCount += count;
            return new WindowAdmission(WindowAdmissionOutcome.Late, start,
                $"late beyond the update horizon: window [{start}, {start + _sizeMs}) ms is more than {_horizonMs} ms behind the emitted windows");
        }
        if (!_emitted.TryGetValue(start, out target))
        {
            target = new WindowAggregate();
            _emitted[start] = target;
        }
        _updated.Add(start);
        return new WindowAdmission(WindowAdmissionOutcome.UpdatedClosedWindow, start, null);
    }

    private void EvictBeyondHorizon()
    {
        List<long>? evict = null;
        foreach (var (start, _) in _emitted)
        {
            if (start + _sizeMs >= _closedThroughMs - _horizonMs)
            {
                break;
            }
            (evict ??= []).Add(start);
        }
        evict?.ForEach(start => _emitted.Remove(start));
    }

    /// <summary>Saves the open and recently emitted windows, the watermark and the late count (versioned binary).</summary>
    public byte[] ToBytes()
    {
        var size = 1 + 8 * 4 + 4 + 4 + (_open.Count + _emitted.Count) * WindowBytes + 4 + _updated.Count * 8;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        span[0] = StateVersion;
        var offset = 1;
        WriteInt64(span, ref offset, _sizeMs);
        WriteInt64(span, ref offset, _closedThroughMs);
        WriteInt64(span, ref offset, _maxTimestampMs);
        WriteInt64(span, ref offset, LateCount);
        WriteWindows(span, ref offset, _open);
        WriteWindows(span, ref offset, _emitted);
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], _updated.Count);
        offset += 4;
        foreach (var start in _updated)
        {
            WriteInt64(span, ref offset, start);
        }
        return bytes;
    }

    /// <summary>Restores state saved by <see cref="ToBytes"/>; the window size must match <paramref name="options"/>.</summary>
    public static TumblingWindowAggregator FromBytes(ReadOnlySpan<byte> bytes, TumblingWindowOptions options)
    {
        if (bytes.Length < 1 + 8 * 4 + 8)
        {
            throw new FormatException($"window state is truncated ({bytes.Length} bytes)");
        }
        if (bytes[0] != StateVersion)
        {
            throw new FormatException($"window state version {bytes[0]} is not supported (expected {StateVersion})");
        }
        var aggregator = new TumblingWindowAggregator(options);
        var offset = 1;
        var savedSize = ReadInt64(bytes, ref offset);
        if (savedSize != aggregator._sizeMs)
        {
            throw new FormatException($"window state was saved with {savedSize} ms windows, but the options say {aggregator._sizeMs} ms");
        }
        aggregator._closedThroughMs = ReadInt64(bytes, ref offset);
        aggregator._maxTimestampMs = ReadInt64(bytes, ref offset);
        aggregator.LateCount = ReadInt64(bytes, ref offset);
        if (aggregator.LateCount < 0)
        {
            throw new FormatException($"window state has a negative late count ({aggregator.LateCount})");
        }
        aggregator.ReadWindows(bytes, ref offset, aggregator._open);
        aggregator.ReadWindows(bytes, ref offset, aggregator._emitted);
        var updated = ReadInt32(bytes, ref offset);
        if (updated < 0 || (long)updated * 8 > bytes.Length - offset)
        {
            throw new FormatException($"window state claims {updated} updated windows but is too short for them");
        }
        for (var i = 0; i < updated; i++)
        {
            aggregator._updated.Add(ReadInt64(bytes, ref offset));
        }
        if (offset != bytes.Length)
        {
            throw new FormatException($"window state has {bytes.Length - offset} trailing byte(s)");
        }
        return aggregator;
    }

    private const int WindowBytes = 8 + 8 + 8 + 8 * WindowAggregate.StarLevels;

    private static void WriteWindows(Span<byte> span, ref int offset, SortedDictionary<long, WindowAggregate> windows)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], windows.Count);
        offset += 4;
        foreach (var (start, aggregate) in windows)
        {
            WriteInt64(span, ref offset, start);
            WriteInt64(span, ref offset, aggregate.Count);
            BinaryPrimitives.WriteDoubleLittleEndian(span[offset..], aggregate.Sum);
            offset += 8;
            foreach (var stars in aggregate.StarCounts)
            {
                WriteInt64(span, ref offset, stars);
            }
        }
    }

    private void ReadWindows(ReadOnlySpan<byte> bytes, ref int offset, SortedDictionary<long, WindowAggregate> windows)
    {
        var count = ReadInt32(bytes, ref offset);
        if (count < 0 || (long)count * WindowBytes > bytes.Length - offset)
        {
            throw new FormatException($"window state claims {count} windows but is too short for them");
        }
        Span<long> stars = stackalloc long[WindowAggregate.StarLevels];
        for (var i = 0; i < count; i++)
        {
            var start = ReadInt64(bytes, ref offset);
            var n = ReadInt64(bytes, ref offset);
            var sum = BinaryPrimitives.ReadDoubleLittleEndian(bytes[offset..]);
            offset += 8;
            for (var s = 0; s < stars.Length; s++)
            {
                stars[s] = ReadInt64(bytes, ref offset);
            }
            if (WindowStartOf(start) != start)
            {
                throw new FormatException($"window state holds a window starting at {start}, not a multiple of {_sizeMs} ms");
            }
            try
            {
                windows[start] = WindowAggregate.FromParts(n, sum, stars);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"window state holds an invalid window at {start}: {ex.Message}", ex);
            }
        }
    }

    private static void WriteInt64(Span<byte> span, ref int offset, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(span[offset..], value);
        offset += 8;
    }

    private static long ReadInt64(ReadOnlySpan<byte> bytes, ref int offset)
    {
        if (bytes.Length - offset < 8)
        {
            throw new FormatException("window state is truncated");
        }
        var value = BinaryPrimitives.ReadInt64LittleEndian(bytes[offset..]);
        offset += 8;
        return value;
    }

    private static int ReadInt32(ReadOnlySpan<byte> bytes, ref int offset)
    {
        if (bytes.Length - offset < 4)
        {
            throw new FormatException("window state is truncated");
        }
        var value = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
        offset += 4;
        return value;
    }
}
