using ReviewOrleans.Analytics.Counting;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Grains;

/// <summary>
/// The effects of a range of a partition's batches on its receivers: per-(category, window) pre-aggregates, counts
/// and distinct counters, anomaly observations, priority reviews, dead letters, categories to register. One batch's
/// effects become a log row (<see cref="ToEntry"/>); a range of rows read back from the log folds into one
/// (<see cref="Fold"/>), and each receiver gets its part of it (<see cref="Receivers"/>).
/// </summary>
internal sealed class PartitionBuffers(long windowSizeMs)
{
    private readonly Dictionary<(string Category, long Start), CategoryPartial> _partials = [];
    private readonly Dictionary<long, DistinctCounter> _distinct = [];
    private readonly Dictionary<string, List<PriorityReviewRecord>> _priority = new(StringComparer.Ordinal);
    private readonly List<DeadLetterRecord> _deadLetters = [];
    private readonly HashSet<string> _categories = new(StringComparer.Ordinal);

    public CountDelta Counts { get; } = new();

    public List<AnomalyObservation> Observations { get; } = [];

    /// <param name="idHash">The review id's <see cref="DistinctCounter.Hash"/>, already computed for de-duplication.</param>
    public void Add(ReviewMessage review, ulong idHash, int predictedStars, double expectedStars, long timestampMs)
    {
        var start = TumblingWindowAggregator.WindowStartOf(timestampMs, windowSizeMs);
        AddToPartial(review.ProductCategory, start, timestampMs, predictedStars, expectedStars);
        AddToPartial(StreamNames.AllCategories, start, timestampMs, predictedStars, expectedStars);

        Counts.Reviews++;
        Increment(Counts.PerCategory, review.ProductCategory);
        Increment(Counts.PerSource, review.SourceOrUnknown);
        if (!_distinct.TryGetValue(start, out var distinct))
        {
            distinct = new DistinctCounter();
            _distinct[start] = distinct;
        }
        distinct.AddHash(idHash);
        _categories.Add(review.ProductCategory);
    }

    public void AddPriority(ReviewMessage review, int predictedStars, double expectedStars, long nowMs) =>
        PriorityOf(review.ProductCategory).Add(new PriorityReviewRecord
        {
            ReviewId = review.ReviewId,
            Category = review.ProductCategory,
            PredictedStars = predictedStars,
            ExpectedStars = expectedStars,
            ReviewHeadline = review.ReviewHeadline,
            ReviewBody = review.ReviewBody,
            CustomerId = review.CustomerId,
            Source = review.Source,
            ReceivedMs = nowMs,
        });

    /// <summary>Keeps a delivery failure of the reviews stream as a dead letter (no review to attach).</summary>
    public void RecordStreamError(string message, long nowMs) => AddStreamDeadLetter("", "delivery", message, nowMs);

    /// <summary>Keeps a batch that could not be decoded as one dead letter, its reviews counted as rejected.</summary>
    public void RecordUndecodableBatch(int count, string message, long nowMs)
    {
        Counts.Rejected += count;
        AddStreamDeadLetter("batch", "decode", $"{count} reviews lost: {message}", nowMs);
    }

    private void AddStreamDeadLetter(string field, string rule, string message, long nowMs) =>
        _deadLetters.Add(new DeadLetterRecord { TimeMs = nowMs, Field = field, Rule = rule, Message = message, Stage = "stream" });

    public void Reject(ReviewMessage review, ReviewRejection rejection, long nowMs)
    {
        Counts.Rejected++;
        _deadLetters.Add(new DeadLetterRecord
        {
            TimeMs = nowMs,
            ReviewId = review.ReviewId ?? "",
            Field = rejection.Field,
            Rule = rejection.Rule,
            Message = rejection.Message,
            Stage = "partition",
            Raw = DeadLetterRecord.ClipRaw(review.ReviewBody),
        });
    }

    /// <summary>This (one batch's) effects as a log row.</summary>
    public PartitionLogEntry ToEntry() => new()
    {
        Partials = [.. _partials.Values],
        Counts = CountsPart(),
        Observations = Observations,
        Priority = [.. _priority.Values.SelectMany(p => p)],
        DeadLetters = _deadLetters,
        Categories = [.. _categories],
    };

    /// <summary>Adds a log row's effects after those already here, so that observations and queue entries keep their order.</summary>
    public void Fold(PartitionLogEntry entry)
    {
        foreach (var partial in entry.Partials)
        {
            var key = (partial.Category, partial.WindowStartMs);
            if (!_partials.TryGetValue(key, out var into))
            {
                into = new CategoryPartial { Category = partial.Category, WindowStartMs = partial.WindowStartMs, MaxTimestampMs = partial.MaxTimestampMs };
                _partials[key] = into;
            }
            into.Count += partial.Count;
            into.SumExpectedStars += partial.SumExpectedStars;
            into.MaxTimestampMs = Math.Max(into.MaxTimestampMs, partial.MaxTimestampMs);
            for (var i = 0; i < into.StarCounts.Length; i++)
            {
                into.StarCounts[i] += partial.StarCounts[i];
            }
        }
        Counts.Reviews += entry.Counts.Reviews;
        Counts.Rejected += entry.Counts.Rejected;
        Counts.Duplicates += entry.Counts.Duplicates;
        foreach (var (key, n) in entry.Counts.PerCategory)
        {
            Counts.PerCategory[key] = Counts.PerCategory.GetValueOrDefault(key) + n;
        }
        foreach (var (key, n) in entry.Counts.PerSource)
        {
            Counts.PerSource[key] = Counts.PerSource.GetValueOrDefault(key) + n;
        }
        foreach (var (start, bytes) in entry.Counts.DistinctPerWindow)
        {
            var counter = DistinctCounter.FromBytes(bytes);
            if (_distinct.TryGetValue(start, out var into))
            {
                into.Merge(counter);
            }
            else
            {
                _distinct[start] = counter;
            }
        }
        Observations.AddRange(entry.Observations);
        foreach (var review in entry.Priority)
        {
            PriorityOf(review.Category).Add(review);
        }
        _deadLetters.AddRange(entry.DeadLetters);
        _categories.UnionWith(entry.Categories);
    }

    /// <summary>The receivers with a part here; <paramref name="anomalyShard"/> is the forest this partition feeds.</summary>
    public IEnumerable<Receiver> Receivers(int anomalyShard)
    {
        foreach (var category in _partials.Keys.Select(k => k.Category).Distinct())
        {
            yield return Receiver.Category(category);
        }
        if (!Counts.IsEmpty) // distinct ids and per-category counts come only with reviews counted
        {
            yield return Receiver.Counts;
        }
        if (Observations.Count > 0)
        {
            yield return Receiver.Anomaly(anomalyShard);
        }
        foreach (var category in _priority.Keys)
        {
            yield return Receiver.Priority(category);
        }
        if (_deadLetters.Count > 0)
        {
            yield return Receiver.DeadLetters;
        }
        if (_categories.Count > 0)
        {
            yield return Receiver.Directory;
        }
    }

    /// <summary>Delivers the receiver's part as covering <paramref name="range"/> (an empty part only asks for its marks).</summary>
    public async Task<DeliveryReceipt> SendAsync(IGrainFactory grains, Receiver receiver, LogRange range)
    {
        switch (receiver.Kind)
        {
            case ReceiverKind.Category:
                return await grains.GetGrain<ICategoryGrain>(receiver.Name).MergePartials(range,
                    [.. _partials.Values.Where(p => p.Category == receiver.Name)]);
            case ReceiverKind.Counts:
                return await grains.GetGrain<ICountingGrain>("global").Add(range, CountsPart());
            case ReceiverKind.Anomaly:
                return await grains.GetGrain<IAnomalyGrain>(receiver.Shard).Observe(range, Observations);
            case ReceiverKind.Priority:
                return await grains.GetGrain<IPriorityQueueGrain>(receiver.Name).Enqueue(range,
                    _priority.TryGetValue(receiver.Name, out var reviews) ? reviews : []);
        }
        // The rest store before they return and recognise what they already hold (record ids, names), so delivering a
        // part again is harmless and "returned" means "durable".
        switch (receiver.Kind)
        {
            case ReceiverKind.DeadLetters when _deadLetters.Count > 0:
                await grains.GetGrain<IDeadLetterGrain>(0).Add(_deadLetters);
                break;
            case ReceiverKind.Directory when _categories.Count > 0:
                await grains.GetGrain<ICategoryDirectoryGrain>(0).Register([.. _categories]);
                break;
        }
        return new DeliveryReceipt(true, range.To, range.To);
    }

    private CountDelta CountsPart()
    {
        var counts = new CountDelta
        {
            Reviews = Counts.Reviews,
            Rejected = Counts.Rejected,
            Duplicates = Counts.Duplicates,
            PerCategory = Counts.PerCategory,
            PerSource = Counts.PerSource,
        };
        foreach (var (start, counter) in _distinct)
        {
            counts.DistinctPerWindow[start] = counter.ToBytes();
        }
        return counts;
    }

    private List<PriorityReviewRecord> PriorityOf(string category)
    {
        if (!_priority.TryGetValue(category, out var list))
        {
            list = [];
            _priority[category] = list;
        }
        return list;
    }

    private void AddToPartial(string category, long start, long timestampMs, int predictedStars, double expectedStars)
    {
        if (!_partials.TryGetValue((category, start), out var partial))
        {
            partial = new CategoryPartial { Category = category, WindowStartMs = start, MaxTimestampMs = timestampMs };
            _partials[(category, start)] = partial;
        }
        partial.Count++;
        partial.SumExpectedStars += expectedStars;
        partial.StarCounts[predictedStars - 1]++;
        partial.MaxTimestampMs = Math.Max(partial.MaxTimestampMs, timestampMs);
    }

    private static void Increment(Dictionary<string, long> counts, string key) =>
        counts[key] = counts.TryGetValue(key, out var n) ? n + 1 : 1;
}

/// <summary>One batch's effects, as a partition's log stores them (see <see cref="IPartitionLog"/>).</summary>
[GenerateSerializer, Alias("partition-log-entry.v1")]
public sealed class PartitionLogEntry
{
    [Id(0)] public List<CategoryPartial> Partials { get; set; } = [];
    [Id(1)] public CountDelta Counts { get; set; } = new();
    [Id(2)] public List<AnomalyObservation> Observations { get; set; } = [];
    [Id(3)] public List<PriorityReviewRecord> Priority { get; set; } = [];
    [Id(4)] public List<DeadLetterRecord> DeadLetters { get; set; } = [];
    [Id(5)] public List<string> Categories { get; set; } = [];
}

internal enum ReceiverKind
{
    Category,
    Counts,
    Anomaly,
    Priority,
    DeadLetters,
    Directory,
}

/// <summary>A grain that a partition delivers to; <see cref="Name"/> is the category where the kind has one.</summary>
internal readonly record struct Receiver(ReceiverKind Kind, string Name, int Shard)
{
    public static Receiver Category(string category) => new(ReceiverKind.Category, category, 0);
    public static Receiver Priority(string category) => new(ReceiverKind.Priority, category, 0);
    public static Receiver Anomaly(int shard) => new(ReceiverKind.Anomaly, "", shard);
    public static readonly Receiver Counts = new(ReceiverKind.Counts, "", 0);
    public static readonly Receiver DeadLetters = new(ReceiverKind.DeadLetters, "", 0);
    public static readonly Receiver Directory = new(ReceiverKind.Directory, "", 0);

    /// <summary>
    /// Whether the receiver keeps marks of the rows it applied and saves on its own schedule (it adds things up, or its
    /// state is too large to write on every call) rather than storing each call and recognising repeats.
    /// </summary>
    public bool KeepsMarks => Kind is ReceiverKind.Category or ReceiverKind.Counts or ReceiverKind.Anomaly or ReceiverKind.Priority;

    public override string ToString() => Kind switch
    {
        ReceiverKind.Category or ReceiverKind.Priority => $"{Kind}({Name})",
        ReceiverKind.Anomaly => $"Anomaly({Shard})",
        _ => Kind.ToString(),
    };
}
