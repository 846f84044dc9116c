using ReviewOrleans.Analytics.Counting;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Grains;

/// <summary>
/// What a partition grain gathered since its last flush: per-(category, window) pre-aggregates, counts and distinct
/// counters, anomaly observations, priority reviews, dead letters. <see cref="SendAsync"/> delivers each part and
/// removes it once delivered, so after a failed flush <see cref="FoldInto"/> puts back only what was not delivered.
/// The receivers fail a call only before they apply it (their own follow-up writes, such as dead letters or alert
/// notifications, are logged on failure instead), so a retry counts nothing twice; the exception is a call that
/// times out after its receiver applied it, which makes delivery at-least-once for windows, counts and forests
/// (priority queues and dead letters de-duplicate by review id and record id).
/// </summary>
internal sealed class PartitionBuffers(long windowSizeMs)
{
    private readonly Dictionary<(string Category, long Start), CategoryPartial> _partials = [];
    private Dictionary<long, DistinctCounter> _distinct = [];
    private readonly Dictionary<string, List<PriorityReviewRecord>> _priority = [];
    private List<DeadLetterRecord> _deadLetters = [];
    private HashSet<string> _categories = new(StringComparer.Ordinal);

    public CountDelta Counts { get; private set; } = new();

    public List<AnomalyObservation> Observations { get; private set; } = [];

    public bool IsEmpty => _partials.Count == 0 && Counts.IsEmpty && _distinct.Count == 0 && Observations.Count == 0
        && _priority.Count == 0 && _deadLetters.Count == 0 && _categories.Count == 0; // categories: a failed registration is retried

    /// <param name="idHash">The review id's <see cref="DistinctCounter.Hash"/>, already computed for de-duplication.</param>
    public void Add(ReviewMessage review, ulong idHash, int predictedStars, double expectedStars, long timestampMs)
    {
        var start = TumblingWindowAggregator.WindowStartOf(timestampMs, windowSizeMs);
        AddToPartial(review.ProductCategory, start, timestampMs, predictedStars, expectedStars);
        AddToPartial(StreamNames.AllCategories, start, timestampMs, predictedStars, expectedStars);

        var counts = Counts;
        counts.Reviews++;
        Increment(counts.PerCategory, review.ProductCategory);
        Increment(counts.PerSource, string.IsNullOrEmpty(review.Source) ? "unknown" : review.Source);
        if (!_distinct.TryGetValue(start, out var distinct))
        {
            distinct = new DistinctCounter();
            _distinct[start] = distinct;
        }
        distinct.AddHash(idHash);
        _categories.Add(review.ProductCategory);
    }

    public void AddPriority(ReviewMessage review, int predictedStars, double expectedStars, long nowMs)
    {
        if (!_priority.TryGetValue(review.ProductCategory, out var list))
        {
            list = [];
            _priority[review.ProductCategory] = list;
        }
        list.Add(new PriorityReviewRecord
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
    }

    /// <summary>Keeps a delivery failure of the reviews stream as a dead letter (no review to attach).</summary>
    public void RecordStreamError(string message, long nowMs) => AddStreamDeadLetter("", "delivery", message, nowMs);

    /// <summary>Keeps a batch that could not be decoded as one dead letter, its reviews counted as rejected.</summary>
    public void RecordUndecodableBatch(int count, string message, long nowMs)
    {
        Counts.Rejected += count;
        AddStreamDeadLetter("batch", "decode", $"{count} reviews lost: {message}", nowMs);
    }

    private void AddStreamDeadLetter(string field, string rule, string message, long nowMs) =>
        AddDeadLetter("stream", field, rule, message, nowMs);

    /// <summary>A dead letter about records as a whole (no review id): the stream's losses, what Bound drops.</summary>
    private void AddDeadLetter(string stage, string field, string rule, string message, long nowMs) =>
        _deadLetters.Add(new DeadLetterRecord { TimeMs = nowMs, Field = field, Rule = rule, Message = message, Stage = stage });

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

    /// <summary>
    /// Moves what this (older) buffer still holds into <paramref name="newer"/>, ahead of the newer items, so that a
    /// retried flush sends observations and queue entries in their original order.
    /// </summary>
    public void FoldInto(PartitionBuffers newer)
    {
        foreach (var (key, partial) in _partials)
        {
            if (newer._partials.TryGetValue(key, out var later))
            {
                later.Count += partial.Count;
                later.SumExpectedStars += partial.SumExpectedStars;
                later.MaxTimestampMs = Math.Max(later.MaxTimestampMs, partial.MaxTimestampMs);
                for (var i = 0; i < later.StarCounts.Length; i++)
                {
                    later.StarCounts[i] += partial.StarCounts[i];
                }
            }
            else
            {
                newer._partials[key] = partial;
            }
        }
        newer.Counts.Reviews += Counts.Reviews;
        newer.Counts.Rejected += Counts.Rejected;
        newer.Counts.Duplicates += Counts.Duplicates;
        foreach (var (key, n) in Counts.PerCategory)
        {
            newer.Counts.PerCategory[key] = newer.Counts.PerCategory.GetValueOrDefault(key) + n;
        }
        foreach (var (key, n) in Counts.PerSource)
        {
            newer.Counts.PerSource[key] = newer.Counts.PerSource.GetValueOrDefault(key) + n;
        }
        foreach (var (start, counter) in _distinct)
        {
            if (newer._distinct.TryGetValue(start, out var later))
            {
                counter.Merge(later);
            }
            newer._distinct[start] = counter;
        }
        newer.Observations = [.. Observations, .. newer.Observations];
        foreach (var (category, reviews) in _priority)
        {
            newer._priority[category] = newer._priority.TryGetValue(category, out var later) ? [.. reviews, .. later] : reviews;
        }
        newer._deadLetters = [.. _deadLetters, .. newer._deadLetters];
        newer._categories.UnionWith(_categories);
    }

    /// <summary>Dead letters waiting for the next flush.</summary>
    public IReadOnlyList<DeadLetterRecord> PendingDeadLetters => _deadLetters;

    /// <summary>
    /// Caps what failed flushes left pending, so that a downstream grain that keeps failing (a saved forest it cannot
    /// load, say) costs bounded memory. The oldest anomaly observations and priority reviews go first, each with a
    /// dead letter that counts them; the oldest pending dead letters go when even those cannot be stored. Returns
    /// what was dropped.
    /// </summary>
    public (int Observations, int PriorityReviews, int DeadLetters) Bound(int maxObservations, int maxPriorityPerCategory, int maxDeadLetters, long nowMs)
    {
        var priorityReviews = 0;
        foreach (var (category, reviews) in _priority)
        {
            // A category's queue keeps at most this many itself, so older pending ones would not survive there either.
            var excess = reviews.Count - maxPriorityPerCategory;
            if (excess > 0)
            {
                reviews.RemoveRange(0, excess);
                priorityReviews += excess;
                AddDeadLetter("priority", "priority", "dropped",
                    $"{excess} priority reviews of category '{category}' dropped: its queue has not accepted them and at most {maxPriorityPerCategory} are kept", nowMs);
            }
        }
        var observations = Math.Max(0, Observations.Count - maxObservations);
        if (observations > 0)
        {
            Observations = Observations.GetRange(observations, maxObservations);
            AddDeadLetter("anomaly", "observations", "dropped",
                $"{observations} anomaly observations dropped: the anomaly grain has not accepted them and at most {maxObservations} are kept", nowMs);
        }
        var deadLetters = Math.Max(0, _deadLetters.Count - maxDeadLetters);
        if (deadLetters > 0)
        {
            _deadLetters.RemoveRange(0, deadLetters);
        }
        return (observations, priorityReviews, deadLetters);
    }

    /// <summary>Window pre-aggregates waiting for the next flush.</summary>
    public int PendingPartials => _partials.Count;

    /// <param name="anomalyShard">The anomaly grain (forest) that this partition feeds.</param>
    public async Task SendAsync(IGrainFactory grains, int anomalyShard, HashSet<string> registeredCategories)
    {
        var sends = new List<Task>();
        if (_partials.Count > 0)
        {
            foreach (var group in _partials.Values.GroupBy(p => p.Category).ToList())
            {
                sends.Add(SendPartials(grains, group.Key, group.ToList()));
            }
        }
        if (!Counts.IsEmpty || _distinct.Count > 0)
        {
            sends.Add(SendCounts(grains, Counts));
        }
        if (Observations.Count > 0)
        {
            sends.Add(Send(grains.GetGrain<IAnomalyGrain>(anomalyShard).Observe(Observations), () => Observations = []));
        }
        if (_priority.Count > 0)
        {
            foreach (var (category, reviews) in _priority.ToList())
            {
                sends.Add(Send(grains.GetGrain<IPriorityQueueGrain>(category).Enqueue(reviews), () => _priority.Remove(category)));
            }
        }
        if (_deadLetters.Count > 0)
        {
            sends.Add(Send(grains.GetGrain<IDeadLetterGrain>(0).Add(_deadLetters), () => _deadLetters = []));
        }
        var newCategories = _categories.Where(c => !registeredCategories.Contains(c)).ToList();
        if (newCategories.Count > 0)
        {
            sends.Add(Send(grains.GetGrain<ICategoryDirectoryGrain>(0).Register(newCategories), () =>
            {
                registeredCategories.UnionWith(newCategories);
                _categories = new(StringComparer.Ordinal);
            }));
        }
        await Task.WhenAll(sends);
    }

    private async Task SendPartials(IGrainFactory grains, string category, List<CategoryPartial> partials)
    {
        await grains.GetGrain<ICategoryGrain>(category).MergePartials(partials);
        foreach (var partial in partials)
        {
            _partials.Remove((category, partial.WindowStartMs));
        }
    }

    private async Task SendCounts(IGrainFactory grains, CountDelta counts)
    {
        foreach (var (start, counter) in _distinct)
        {
            counts.DistinctPerWindow[start] = counter.ToBytes();
        }
        await grains.GetGrain<ICountingGrain>("global").Add(counts);
        Counts = new();
        _distinct = [];
    }

    private static async Task Send(Task call, Action onDelivered)
    {
        await call;
        onDelivered();
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
