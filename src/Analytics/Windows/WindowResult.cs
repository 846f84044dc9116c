namespace ReviewOrleans.Analytics.Windows;

/// <summary>Whether a window result is the first emission of a closed window or a later correction.</summary>
public enum WindowEmission
{
    /// <summary>The window closed; this is its first result.</summary>
    Final,

    /// <summary>A late value changed a window that had already been emitted; this result replaces the earlier one.</summary>
    Update,
}

/// <summary>One closed tumbling window: [<see cref="StartMs"/>, <see cref="EndMs"/>) in Unix milliseconds.</summary>
public sealed record WindowResult(long StartMs, long EndMs, WindowAggregate Aggregate, WindowEmission Emission)
{
    public DateTimeOffset Start => DateTimeOffset.FromUnixTimeMilliseconds(StartMs);

    public DateTimeOffset End => DateTimeOffset.FromUnixTimeMilliseconds(EndMs);

    public long Count => Aggregate.Count;

    public double Sum => Aggregate.Sum;

    public double Mean => Aggregate.Mean;
}
