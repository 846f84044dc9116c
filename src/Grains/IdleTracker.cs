namespace ReviewOrleans.Grains;

/// <summary>
/// When a grain kept alive by its own timer has had nothing to do for <see cref="PipelineOptions.CategoryIdleTimeout"/>:
/// one grain per product category would otherwise stay in memory for good once a review named it.
/// </summary>
internal sealed class IdleTracker(TimeProvider clock, TimeSpan timeout)
{
    private long _lastUsed = clock.GetTimestamp();

    public void Touch() => _lastUsed = clock.GetTimestamp();

    public bool IsIdle => clock.GetElapsedTime(_lastUsed) >= timeout;
}
