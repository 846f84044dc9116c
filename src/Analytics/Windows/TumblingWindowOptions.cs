namespace ReviewOrleans.Analytics.Windows;

/// <summary>Which clock assigns values to windows.</summary>
public enum WindowTime
{
    /// <summary>Arrival time, like Kinesis Data Analytics' <c>STEP(ROWTIME BY INTERVAL ...)</c>: a window closes when the clock passes its end.</summary>
    Processing,

    /// <summary>The value's own timestamp; a window closes when the watermark (max timestamp seen − allowed lateness) passes its end.</summary>
    Event,
}

/// <summary>What happens to a value whose window has already been emitted.</summary>
public enum LateValuePolicy
{
    /// <summary>The value is counted as late and handed back to the caller for its dead-letter output, with the reason.</summary>
    DeadLetter,

    /// <summary>The closed window is updated and emitted again, marked <see cref="WindowEmission.Update"/>.</summary>
    UpdateWindow,
}

/// <summary>Settings of a <see cref="TumblingWindowAggregator"/>.</summary>
public sealed record TumblingWindowOptions
{
    /// <summary>Window length (default 5 s, as the reference pipeline).</summary>
    public TimeSpan Size { get; init; } = TimeSpan.FromSeconds(5);

    public WindowTime Time { get; init; } = WindowTime.Processing;

    /// <summary>
    /// Event time: how far behind the newest timestamp the watermark trails. Processing time: how long after its end a
    /// window stays open for values still in flight from producers.
    /// </summary>
    public TimeSpan AllowedLateness { get; init; } = TimeSpan.Zero;

    public LateValuePolicy LatePolicy { get; init; } = LateValuePolicy.UpdateWindow;

    /// <summary>How long an emitted window is kept so that late values can update it; older late values are dead-lettered.</summary>
    public TimeSpan UpdateHorizon { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Size < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentException($"{nameof(Size)} must be at least 1 ms, got {Size}", nameof(Size));
        }
        if (AllowedLateness < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(AllowedLateness)} must not be negative, got {AllowedLateness}", nameof(AllowedLateness));
        }
        if (UpdateHorizon < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(UpdateHorizon)} must not be negative, got {UpdateHorizon}", nameof(UpdateHorizon));
        }
        if (!Enum.IsDefined(Time))
        {
            throw new ArgumentException($"unknown {nameof(Time)} {Time}", nameof(Time));
        }
        if (!Enum.IsDefined(LatePolicy))
        {
            throw new ArgumentException($"unknown {nameof(LatePolicy)} {LatePolicy}", nameof(LatePolicy));
        }
    }
}
