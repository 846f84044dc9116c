namespace ReviewOrleans.Grains;

/// <summary>
/// Group commit for a reentrant grain's persistent state: the changes of every call that asks for a commit while a
/// write is pending share the next write, and writes start at most once per <paramref name="minInterval"/>. A call's
/// task completes once a write that began after the call asked has completed (or fails with that write's error), so
/// "persisted before the call returns" still holds for each caller.
/// </summary>
/// <remarks>
/// Without it, a bounded store that is written whole on every call costs O(capacity) per call: a priority queue of
/// 1,000 reviews received 64 calls a second from 16 partitions and serialised ~450 KB each time, which was 60 % of
/// the platform's allocations at 25,000 reviews/s. Must be used from the grain's own turns only (not thread-safe).
/// </remarks>
/// <param name="write">Starts one write of the current state; it must snapshot what it writes synchronously, before
/// its first await, because other calls go on changing the grain's working data while it runs.</param>
internal sealed class GroupCommit(Func<Task> write, TimeSpan minInterval, TimeProvider clock)
{
    private TaskCompletionSource? _next;
    private Task? _inFlight;
    private long _lastStart = long.MinValue;

    /// <summary>Completes once the grain's changes made before this call are persisted.</summary>
    public Task CommitAsync()
    {
        if (_next is { } pending)
        {
            return pending.Task;
        }
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _next = next;
        _ = RunAsync(next);
        return next.Task;
    }

    private async Task RunAsync(TaskCompletionSource commit)
    {
        try
        {
            if (_inFlight is { } running)
            {
                // Its own callers see its outcome; this write goes ahead either way.
                await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            }
            if (_lastStart != long.MinValue)
            {
                var wait = minInterval - clock.GetElapsedTime(_lastStart);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock);
                }
            }
            // From here on, changes belong to the next write.
            _next = null;
            _lastStart = clock.GetTimestamp();
            _inFlight = commit.Task;
            await write();
            commit.TrySetResult();
        }
        catch (Exception ex)
        {
            if (ReferenceEquals(_next, commit))
            {
                _next = null;
            }
            commit.TrySetException(ex);
        }
    }
}
