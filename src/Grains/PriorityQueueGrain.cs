using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>Persisted state of a <see cref="PriorityQueueGrain"/>.</summary>
[GenerateSerializer, Alias("priority-queue-state.v1")]
public sealed class PriorityQueueState
{
    /// <summary>Unacknowledged reviews, oldest first.</summary>
    [Id(0)] public List<PriorityReviewRecord> Pending { get; set; } = [];

    /// <summary>Reviews dropped unacknowledged because the queue was full.</summary>
    [Id(1)] public long Dropped { get; set; }

    [Id(2)] public long Acknowledged { get; set; }
}

/// <summary>
/// A category's queue of reviews predicted at 2 stars or fewer, awaiting a person. Bounded: when full, the oldest
/// pending review is dropped and counted. Every change is persisted before the call returns; calls that arrive while
/// a write is pending share the next one (<see cref="GroupCommit"/>, at most one write per
/// <see cref="PipelineOptions.StateWriteInterval"/>), since each write stores the whole queue.
/// </summary>
/// <remarks>
/// Reentrant so that calls can join a pending write. The working queue lives in fields; each write persists a
/// snapshot taken as it starts, so calls interleaving with a write never change what is being serialised.
/// <see cref="List"/> reads the working queue, which may include changes whose write is still pending.
/// Enqueue is idempotent per review id while the review is pending: a partition that re-sends after a failed call
/// does not queue the review twice.
/// </remarks>
[Reentrant]
[GrainType("priority-queue")]
public sealed class PriorityQueueGrain : Grain, IPriorityQueueGrain
{
    private readonly IPersistentState<PriorityQueueState> _state;
    private readonly GroupCommit _commit;
    private readonly BoundedKeyedList<PriorityReviewRecord, string> _pending;
    private long _dropped;
    private long _acknowledged;

    public PriorityQueueGrain(
        [PersistentState("priority-queue", StorageNames.Default)] IPersistentState<PriorityQueueState> state,
        IOptions<PipelineOptions> options,
        TimeProvider clock)
    {
        _state = state;
        _pending = new(options.Value.PriorityQueueCapacity, static r => r.ReviewId);
        _commit = new GroupCommit(WriteSnapshotAsync, options.Value.StateWriteInterval, clock);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _pending.Load(_state.State.Pending);
        _dropped = _state.State.Dropped;
        _acknowledged = _state.State.Acknowledged;
        return Task.CompletedTask;
    }

    public Task Enqueue(List<PriorityReviewRecord> reviews)
    {
        foreach (var review in reviews)
        {
            _pending.TryAdd(review);
        }
        _dropped += _pending.TrimOldest();
        return _commit.CommitAsync();
    }

    /// <summary>The most urgent first: lowest expected stars, then oldest.</summary>
    public Task<List<PriorityReviewRecord>> List(int limit) => Task.FromResult(_pending.Items
        .OrderBy(r => r.ExpectedStars).ThenBy(r => r.ReceivedMs)
        .Take(Math.Max(0, limit))
        .ToList());

    public async Task<bool> Acknowledge(string reviewId)
    {
        if (!_pending.Remove(reviewId))
        {
            // Perhaps acknowledged a moment ago by a call whose write is pending, or failed: answer only once a write
            // holding the removal has succeeded, so that the client's retry after a failure still gets it stored
            // (waiting for the pending write alone would hide a failure and lose the ack on deactivation).
            await _commit.CommitAsync();
            return false;
        }
        _acknowledged++;
        await _commit.CommitAsync();
        return true;
    }

    private Task WriteSnapshotAsync()
    {
        _state.State = new PriorityQueueState { Pending = [.. _pending.Items], Dropped = _dropped, Acknowledged = _acknowledged };
        return _state.WriteStateAsync();
    }
}
