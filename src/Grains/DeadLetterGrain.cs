using Microsoft.Extensions.Options;
using Orleans.Concurrency;
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

/// <summary>
/// The bounded dead-letter store: refused records with their reasons, newest kept, all counted. Each write stores
/// up to <see cref="PipelineOptions.DeadLetterCapacity"/> records (megabytes), so calls share writes through
/// <see cref="GroupCommit"/>: a flood of malformed records costs a few writes a second, not one per partition flush.
/// Records carry ids, so a sender that re-sends after a failed call (whose records the store may already hold) does
/// not store or count them twice while they are kept.
/// </summary>
[Reentrant]
[GrainType("dead-letters")]
public sealed class DeadLetterGrain : Grain, IDeadLetterGrain
{
    private readonly IPersistentState<DeadLetterState> _state;
    private readonly GroupCommit _commit;
    private readonly BoundedKeyedList<DeadLetterRecord, Guid> _kept;
    private long _total;

    public DeadLetterGrain(
        [PersistentState("dead-letters", StorageNames.Default)] IPersistentState<DeadLetterState> state,
        IOptions<PipelineOptions> options,
        TimeProvider clock)
    {
        _state = state;
        _kept = new(options.Value.DeadLetterCapacity, static d => d.Id);
        _commit = new GroupCommit(WriteSnapshotAsync, options.Value.StateWriteInterval, clock);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _kept.Load(_state.State.Kept);
        _total = _state.State.Total;
        return Task.CompletedTask;
    }

    /// <summary>Stores the records; one already kept (a sender's re-send after a failed call) is not added again.</summary>
    public async Task<int> Add(List<DeadLetterRecord> deadLetters)
    {
        var added = 0;
        foreach (var deadLetter in deadLetters)
        {
            added += _kept.TryAdd(deadLetter) ? 1 : 0;
        }
        _total += added;
        _kept.TrimOldest();
        await _commit.CommitAsync();
        return added;
    }

    public Task<DeadLetterPage> List(int limit)
    {
        var kept = _kept.Items;
        var take = Math.Clamp(limit, 0, kept.Count);
        var page = new List<DeadLetterRecord>(take);
        for (var i = kept.Count - 1; i >= kept.Count - take; i--)
        {
            page.Add(kept[i]);
        }
        return Task.FromResult(new DeadLetterPage(_total, page));
    }

    private Task WriteSnapshotAsync()
    {
        _state.State = new DeadLetterState { Kept = [.. _kept.Items], Total = _total };
        return _state.WriteStateAsync();
    }
}
