using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReviewOrleans.Analytics.Counting;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>Persisted state of the <see cref="CountingGrain"/>.</summary>
[GenerateSerializer, Alias("counting-state.v1")]
public sealed class CountingState
{
    [Id(0)] public long TotalReviews { get; set; }
    [Id(1)] public long RejectedReviews { get; set; }
    [Id(2)] public long DuplicateReviews { get; set; }
    [Id(3)] public Dictionary<string, long> PerCategory { get; set; } = [];
    [Id(4)] public Dictionary<string, long> PerSource { get; set; } = [];

    /// <summary>Per window start, the distinct counter's bytes (<see cref="DistinctCounter.ToBytes"/>).</summary>
    [Id(5)] public SortedDictionary<long, byte[]> DistinctPerWindow { get; set; } = [];

    [Id(6)] public byte[]? AllTimeDistinct { get; set; }

    /// <summary>The log sequence applied through from each partition; saved with the totals it went into.</summary>
    [Id(8)] public DeliveryMarks Marks { get; set; } = new();
}

/// <summary>
/// Exact running totals per category and source, and per-window distinct review_id counts (exact up to 10,000, a
/// sketch beyond) merged from the partitions' counters, like COUNT_DISTINCT_ITEMS_TUMBLING. Partitions send one
/// delta per flush, so this grain sees P calls per flush interval whatever the review rate.
/// </summary>
[GrainType("counting")]
public sealed partial class CountingGrain(
    [PersistentState("review-counts", StorageNames.Default)] IPersistentState<CountingState> state,
    IOptions<PipelineOptions> options,
    ILogger<CountingGrain> logger) : Grain, ICountingGrain
{
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(5);

    private readonly PipelineOptions _options = options.Value;
    private readonly SortedDictionary<long, DistinctCounter> _windows = [];
    private DistinctCounter _allTime = null!;
    private bool _dirty;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var (start, bytes) in state.State.DistinctPerWindow)
        {
            _windows[start] = DistinctCounter.FromBytes(bytes);
        }
        _allTime = state.State.AllTimeDistinct is { } all ? DistinctCounter.FromBytes(all) : new DistinctCounter();
        state.State.Marks.Loaded();
        this.RegisterGrainTimer(static (grain, _) => grain.SaveIfChangedAsync(), this,
            new GrainTimerCreationOptions(SaveInterval, SaveInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => SaveIfChangedAsync();

    public Task<DeliveryReceipt> Add(LogRange range, CountDelta delta)
    {
        var s = state.State;
        if (!s.Marks.ShouldApply(range, out var answer))
        {
            return Task.FromResult(answer);
        }
        // Decoded before anything is added: a call applies all of a delivery or none of it, since half a delivery
        // re-sent under the same token would be ignored, and re-sent under a new one would count twice.
        var distinct = new List<(long Start, DistinctCounter Counter)>(delta.DistinctPerWindow.Count);
        foreach (var (start, bytes) in delta.DistinctPerWindow)
        {
            try
            {
                distinct.Add((start, DistinctCounter.FromBytes(bytes)));
            }
            catch (ArgumentException ex)
            {
                LogUndecodableCounter(ex, range.Partition, start);
            }
        }
        s.TotalReviews += delta.Reviews;
        s.RejectedReviews += delta.Rejected;
        s.DuplicateReviews += delta.Duplicates;
        AddAll(s.PerCategory, delta.PerCategory);
        AddAll(s.PerSource, delta.PerSource);
        foreach (var (start, partial) in distinct)
        {
            if (!_windows.TryGetValue(start, out var counter))
            {
                counter = new DistinctCounter();
                _windows[start] = counter;
            }
            counter.Merge(partial);
            _allTime.Merge(partial);
        }
        while (_windows.Count > _options.DistinctWindowsKept)
        {
            _windows.Remove(_windows.Keys.First());
        }
        s.Marks.MarkApplied(range);
        _dirty = true;
        return Task.FromResult(s.Marks.Receipt(range));
    }

    public Task<CountReport> GetReport(int lastWindows)
    {
        var s = state.State;
        var size = (long)_options.WindowSize.TotalMilliseconds;
        var windows = _windows.Skip(Math.Max(0, _windows.Count - Math.Max(0, lastWindows)))
            .Select(w => new DistinctWindowCount(w.Key, w.Key + size, w.Value.Estimate(), w.Value.IsExact))
            .ToList();
        return Task.FromResult(new CountReport
        {
            TotalReviews = s.TotalReviews,
            RejectedReviews = s.RejectedReviews,
            DuplicateReviews = s.DuplicateReviews,
            PerCategory = new(s.PerCategory),
            PerSource = new(s.PerSource),
            AllTimeDistinctReviews = _allTime.Estimate(),
            Windows = windows,
        });
    }

    private async Task SaveIfChangedAsync()
    {
        if (!_dirty)
        {
            return;
        }
        state.State.DistinctPerWindow = new SortedDictionary<long, byte[]>(_windows.ToDictionary(w => w.Key, w => w.Value.ToBytes()));
        state.State.AllTimeDistinct = _allTime.ToBytes();
        await state.State.Marks.SaveAsync(state.WriteStateAsync);
        _dirty = false;
    }

    private static void AddAll(Dictionary<string, long> totals, Dictionary<string, long> delta)
    {
        foreach (var (key, n) in delta)
        {
            totals[key] = totals.TryGetValue(key, out var t) ? t + n : n;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Counting: the distinct counter of partition {Partition} for the window at {WindowStartMs} could not be decoded and was left out")]
    private partial void LogUndecodableCounter(Exception ex, long partition, long windowStartMs);
}
