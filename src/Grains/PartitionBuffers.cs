using ReviewOrleans.Analytics.Counting;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Grains;

/// <summary>
/// What a partition grain gathered since its last flush: per-(category, window) pre-aggregates, counts and distinct
/// counters, anomaly observations, priority reviews, dead letters. <see cref="SendAsync"/> delivers each part and
/// removes it once delivered, so after a failed flush <see cref="FoldInto"/> puts back only what was not attempted.
/// A part for a receiver that adds things up (windows, counts, a forest) whose call failed may have been applied
/// there (a call can time out after its receiver applied it), so it is not put back: it waits in
/// <see cref="UnconfirmedDeliveries"/> with its <see cref="DeliveryToken"/> and goes again, unchanged and before
/// anything newer, until the receiver confirms it; receivers ignore a token they have applied. Priority queues and
/// dead letters de-duplicate by review id and record id, so their parts are simply put back.
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
    /// <param name="unconfirmed">Failed deliveries of earlier flushes, re-sent first; failed ones of this flush join them.</param>
    /// <param name="nextToken">A new token for each new delivery.</param>
    public async Task SendAsync(IGrainFactory grains, int anomalyShard, HashSet<string> registeredCategories,
        UnconfirmedDeliveries unconfirmed, Func<DeliveryToken> nextToken)
    {
        var sends = new List<Task>();
        var freshPartials = _partials.Values.GroupBy(p => p.Category).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var category in freshPartials.Keys.Union(unconfirmed.Partials.Keys).ToList())
        {
            sends.Add(SendPartials(grains.GetGrain<ICategoryGrain>(category), category, freshPartials.GetValueOrDefault(category),
                unconfirmed, nextToken));
        }
        if (unconfirmed.Counts is not null || !Counts.IsEmpty || _distinct.Count > 0)
        {
            sends.Add(SendCounts(grains.GetGrain<ICountingGrain>("global"), unconfirmed, nextToken));
        }
        if (unconfirmed.Observations is not null || Observations.Count > 0)
        {
            sends.Add(SendObservations(grains.GetGrain<IAnomalyGrain>(anomalyShard), unconfirmed, nextToken));
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

    private Task SendPartials(ICategoryGrain grain, string category, List<CategoryPartial>? partials, UnconfirmedDeliveries unconfirmed,
        Func<DeliveryToken> nextToken) =>
        SendInOrder(grain.MergePartials,
            unconfirmed.Partials.TryGetValue(category, out var pending) ? pending : null,
            delivery =>
            {
                if (delivery is { } kept)
                {
                    unconfirmed.Partials[category] = kept;
                }
                else
                {
                    unconfirmed.Partials.Remove(category);
                }
            },
            () =>
            {
                foreach (var partial in partials ?? [])
                {
                    _partials.Remove((category, partial.WindowStartMs));
                }
                return partials;
            },
            nextToken);

    private Task SendCounts(ICountingGrain grain, UnconfirmedDeliveries unconfirmed, Func<DeliveryToken> nextToken) =>
        SendInOrder(grain.Add, unconfirmed.Counts, delivery => unconfirmed.Counts = delivery, () =>
        {
            if (Counts.IsEmpty && _distinct.Count == 0)
            {
                return null;
            }
            var counts = Counts;
            foreach (var (start, counter) in _distinct)
            {
                counts.DistinctPerWindow[start] = counter.ToBytes();
            }
            Counts = new();
            _distinct = [];
            return counts;
        }, nextToken);

    // In order: the forest learns the re-sent observations before the newer ones.
    private Task SendObservations(IAnomalyGrain grain, UnconfirmedDeliveries unconfirmed, Func<DeliveryToken> nextToken) =>
        SendInOrder(grain.Observe, unconfirmed.Observations, delivery => unconfirmed.Observations = delivery, () =>
        {
            if (Observations.Count == 0)
            {
                return null;
            }
            var observations = Observations;
            Observations = [];
            return observations;
        }, nextToken);

    /// <summary>
    /// One receiver's deliveries in order: its unconfirmed delivery first, under its own token; once the receiver has
    /// it, what <paramref name="takeFresh"/> removes from the buffers, under a new token. A fresh delivery whose call
    /// fails becomes the unconfirmed one; when the unconfirmed one fails again, the fresh part stays in the buffers.
    /// </summary>
    private static async Task SendInOrder<T>(Func<DeliveryToken, T, Task> deliver, (DeliveryToken Token, T Payload)? unconfirmed,
        Action<(DeliveryToken Token, T Payload)?> setUnconfirmed, Func<T?> takeFresh, Func<DeliveryToken> nextToken)
        where T : class
    {
        if (unconfirmed is { } pending)
        {
            await deliver(pending.Token, pending.Payload);
            setUnconfirmed(null);
        }
        if (takeFresh() is not { } fresh)
        {
            return;
        }
        var token = nextToken();
        try
        {
            await deliver(token, fresh);
        }
        catch
        {
            setUnconfirmed((token, fresh));
            throw;
        }
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

/// <summary>
/// Deliveries to the receivers that add things up whose call failed: each may or may not have been applied, so it is
/// kept as it was, with its token, and re-sent before anything newer goes to the same receiver. At most one per
/// receiver: newer parts wait in the partition's buffers (merged there) until the receiver confirms this one.
/// </summary>
internal sealed class UnconfirmedDeliveries
{
    public Dictionary<string, (DeliveryToken Token, List<CategoryPartial> Payload)> Partials { get; } = new(StringComparer.Ordinal);

    public (DeliveryToken Token, CountDelta Payload)? Counts { get; set; }

    public (DeliveryToken Token, List<AnomalyObservation> Payload)? Observations { get; set; }

    public bool IsEmpty => Partials.Count == 0 && Counts is null && Observations is null;
}
