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

    /// <summary>The log sequence applied through from each partition; saved with the queue it went into.</summary>
    [Id(3)] public DeliveryMarks Marks { get; set; } = new();
}

/// <summary>
/// A category's queue of reviews predicted at 2 stars or fewer, awaiting a person. Bounded: when full, the oldest
/// pending review is dropped and counted.
/// </summary>
/// <remarks>
/// Each write stores the whole queue (1,000 reviews, about 160 KB), so reviews from the partitions are applied in
/// memory and saved every <see cref="SaveInterval"/> with the log marks they cover, as the counts are: a crash rolls
/// the queue back to its last save and the partitions re-send the rest from their logs. Written on every delivery,
/// the eight queues of a load test were PostgreSQL's largest cost (33 writes/s of 160 KB, 11 ms each).
/// Acknowledgements are rare and a person waits for them, so each is persisted before it returns; calls that arrive
/// while a write is pending share the next one (<see cref="GroupCommit"/>). Reentrant so that calls can join a
/// pending write; each write persists a snapshot taken as it starts. <see cref="List"/> reads the working queue.
/// </remarks>
[Reentrant]
[GrainType("priority-queue")]
public sealed class PriorityQueueGrain : Grain, IPriorityQueueGrain
{
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(5);

    private readonly IPersistentState<PriorityQueueState> _state;
    private readonly GroupCommit _commit;
    private readonly BoundedKeyedList<PriorityReviewRecord, string> _pending;
    private readonly DeliveryMarks _marks = new();
    private long _dropped;
    private long _acknowledged;
    private readonly IdleTracker _idle;
    private bool _dirty;

    public PriorityQueueGrain(
        [PersistentState("priority-queue", StorageNames.Default)] IPersistentState<PriorityQueueState> state,
        IOptions<PipelineOptions> options,
        TimeProvider clock)
    {
        _state = state;
        _pending = new(options.Value.PriorityQueueCapacity, static r => r.ReviewId);
        _commit = new GroupCommit(WriteSnapshotAsync, options.Value.StateWriteInterval, clock);
        _idle = new IdleTracker(clock, options.Value.CategoryIdleTimeout);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _pending.Load(_state.State.Pending);
        _dropped = _state.State.Dropped;
        _acknowledged = _state.State.Acknowledged;
        _marks.Applied = new(_state.State.Marks.Applied);
        _marks.Loaded();
        this.RegisterGrainTimer(static (grain, _) => grain.OnTimerAsync(), this,
            new GrainTimerCreationOptions(SaveInterval, SaveInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => SaveIfChangedAsync();

    public Task<DeliveryReceipt> Enqueue(LogRange range, List<PriorityReviewRecord> reviews)
    {
        _idle.Touch();
        if (!_marks.ShouldApply(range, out var answer))
        {
            return Task.FromResult(answer);
        }
        foreach (var review in reviews)
        {
            _pending.TryAdd(review);
        }
        _dropped += _pending.TrimOldest();
        _marks.MarkApplied(range);
        _dirty = true;
        return Task.FromResult(_marks.Receipt(range));
    }

    /// <summary>The most urgent first: lowest expected stars, then oldest.</summary>
    public Task<List<PriorityReviewRecord>> List(int limit)
    {
        _idle.Touch();
        return Task.FromResult(_pending.Items
            .OrderBy(r => r.ExpectedStars).ThenBy(r => r.ReceivedMs)
            .Take(Math.Max(0, limit))
            .ToList());
    }

    public async Task<bool> Acknowledge(string reviewId)
    {
        _idle.Touch();
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

    private Task OnTimerAsync()
    {
        if (!_dirty && _idle.IsIdle)
        {
            this.DeactivateOnIdle();
            return Task.CompletedTask;
        }
        return SaveIfChangedAsync();
    }

    private Task SaveIfChangedAsync() => _dirty ? _commit.CommitAsync() : Task.CompletedTask;

    private async Task WriteSnapshotAsync()
    {
        // Queue and marks are taken together, before the first await: reviews applied while the write runs are in
        // neither, and stay dirty for the next one.
        _state.State = new PriorityQueueState
        {
            Pending = [.. _pending.Items],
            Dropped = _dropped,
            Acknowledged = _acknowledged,
            Marks = new DeliveryMarks { Applied = new(_marks.Applied) },
        };
        _dirty = false;
        try
        {
            await _marks.SaveAsync(_state.WriteStateAsync);
        }
        catch
        {
            _dirty = true;
            throw;
        }
    }
}
