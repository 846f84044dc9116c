using Microsoft.Extensions.Options;
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
/// pending review is dropped and counted. Every change is persisted before the call returns.
/// </summary>
[GrainType("priority-queue")]
public sealed class PriorityQueueGrain(
    [PersistentState("priority-queue", StorageNames.Default)] IPersistentState<PriorityQueueState> state,
    IOptions<PipelineOptions> options) : Grain, IPriorityQueueGrain
{
    private readonly int _capacity = options.Value.PriorityQueueCapacity;

    public async Task Enqueue(List<PriorityReviewRecord> reviews)
    {
        var pending = state.State.Pending;
        pending.AddRange(reviews);
        state.State.Dropped += pending.KeepNewest(_capacity);
        await state.WriteStateAsync();
    }

    /// <summary>The most urgent first: lowest expected stars, then oldest.</summary>
    public Task<List<PriorityReviewRecord>> List(int limit) => Task.FromResult(state.State.Pending
        .OrderBy(r => r.ExpectedStars).ThenBy(r => r.ReceivedMs)
        .Take(Math.Max(0, limit))
        .ToList());

    public async Task<bool> Acknowledge(string reviewId)
    {
        var removed = state.State.Pending.RemoveAll(r => r.ReviewId == reviewId);
        if (removed == 0)
        {
            return false;
        }
        state.State.Acknowledged += removed;
        await state.WriteStateAsync();
        return true;
    }
}
