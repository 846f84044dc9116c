using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>Persisted state of the <see cref="DeadLetterGrain"/>.</summary>
[GenerateSerializer, Alias("dead-letter-state.v1")]
public sealed class DeadLetterState
{
    /// <summary>The newest dead letters, oldest first.</summary>
    [Id(0)] public List<DeadLetterRecord> Kept { get; set; } = [];

    /// <summary>Every dead letter ever received, kept or not.</summary>
    [Id(1)] public long Total { get; set; }
}

/// <summary>The bounded dead-letter store: refused records with their reasons, newest kept, all counted.</summary>
[GrainType("dead-letters")]
public sealed class DeadLetterGrain(
    [PersistentState("dead-letters", StorageNames.Default)] IPersistentState<DeadLetterState> state,
    IOptions<PipelineOptions> options) : Grain, IDeadLetterGrain
{
    private readonly int _capacity = options.Value.DeadLetterCapacity;

    public async Task Add(List<DeadLetterRecord> deadLetters)
    {
        var kept = state.State.Kept;
        kept.AddRange(deadLetters);
        state.State.Total += deadLetters.Count;
        kept.KeepNewest(_capacity);
        await state.WriteStateAsync();
    }

    public Task<DeadLetterPage> List(int limit)
    {
        var kept = state.State.Kept;
        var take = Math.Clamp(limit, 0, kept.Count);
        var page = kept.GetRange(kept.Count - take, take);
        page.Reverse();
        return Task.FromResult(new DeadLetterPage(state.State.Total, page));
    }
}
