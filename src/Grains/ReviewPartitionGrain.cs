using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Streams;
using ReviewOrleans.Analytics.Counting;
using ReviewOrleans.Analytics.Dedup;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Sentiment;

namespace ReviewOrleans.Grains;

/// <summary>
/// One partition of the "reviews" stream. Per batch it validates, de-duplicates, scores sentiment in one model run
/// and folds the results into <see cref="PartitionBuffers"/>; a timer sends those downstream, so each downstream
/// grain gets one call per flush interval from each partition however high the rate.
/// </summary>
/// <remarks>
/// Reentrant so that scoring goes on while a flush waits for the downstream grains (the forests above all): batch
/// handling has no await between reading and writing its state, and one flush at a time is in flight. When
/// downstream falls behind by <see cref="MaxBufferedReviews"/>, batches wait for the flush, which pushes back
/// through the stream to the gateway instead of growing memory.
/// </remarks>
[Reentrant]
[ImplicitStreamSubscription(StreamNames.Reviews)]
[SpreadByKeyPlacement]
[GrainType("review-partition")]
public sealed partial class ReviewPartitionGrain(
    ISentimentScorer scorer,
    IOptions<PipelineOptions> options,
    TimeProvider clock,
    ILogger<ReviewPartitionGrain> logger) : Grain, IReviewPartitionGrain
{
    /// <summary>Scored reviews buffered while a flush is in flight, beyond which new batches wait for it.</summary>
    public const int MaxBufferedReviews = 50_000;

    /// <summary>Anomaly observations kept for a forest that keeps refusing them (see <see cref="PartitionBuffers.Bound"/>).</summary>
    public const int MaxPendingObservations = 4 * MaxBufferedReviews;

    /// <summary>Dead letters kept for a store that keeps refusing them.</summary>
    public const int MaxPendingDeadLetters = 10_000;

    private readonly PipelineOptions _options = options.Value;
    private readonly List<string> _texts = [];
    private readonly List<ReviewMessage> _accepted = [];
    private readonly List<ulong> _acceptedIdHashes = [];
    private readonly List<(ReviewMessage Review, ReviewRejection Rejection)> _rejected = [];
    private readonly PartitionStats _stats = new();
    private readonly HashSet<string> _registeredCategories = new(StringComparer.Ordinal);
    private SentimentResult[] _scores = new SentimentResult[256];
    private PartitionBuffers _buffers = null!;
    private RecentIdFilter _seen = null!;
    private AnomalyFeatures _features = null!;
    private Task? _flushInFlight;
    private readonly UnconfirmedDeliveries _unconfirmed = new();
    private readonly long _deliveryEpoch = Random.Shared.NextInt64(); // receivers tell this activation's sequences apart
    private long _deliverySequence;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        _seen = new RecentIdFilter(_options.DedupHorizon, _options.DedupCapacityPerPartition, now);
        _features = new AnomalyFeatures(_options.AnomalyProfile, _options.KnownCategories);
        _buffers = new PartitionBuffers((long)_options.WindowSize.TotalMilliseconds);

        var stream = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<ReviewBatch>(StreamId.Create(StreamNames.Reviews, this.GetPrimaryKeyLong()));
        await stream.SubscribeAsync(OnBatchAsync, OnStreamErrorAsync);

        this.RegisterGrainTimer(static (grain, _) => grain.Flush(), this,
            new GrainTimerCreationOptions(_options.FlushInterval, _options.FlushInterval) { KeepAlive = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The timer will not retry once the grain is gone, so a failed flush is retried here while the deactivation
        // allows; what still cannot be delivered is logged with its size rather than dropped unseen.
        for (var attempt = 1; ; attempt++)
        {
            await Flush();
            if (_buffers.IsEmpty && _unconfirmed.IsEmpty)
            {
                return;
            }
            if (attempt == DeactivationFlushAttempts || cancellationToken.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), clock, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        if (!_buffers.IsEmpty)
        {
            LogUndeliveredOnDeactivation(this.GetPrimaryKeyLong(), _buffers.PendingPartials, _buffers.Counts.Reviews, _buffers.Observations.Count, _buffers.PendingDeadLetters.Count);
        }
        if (!_unconfirmed.IsEmpty)
        {
            LogUnconfirmedOnDeactivation(this.GetPrimaryKeyLong(), _unconfirmed.Partials.Values.Sum(p => p.Payload.Count),
                _unconfirmed.Counts?.Payload.Reviews ?? 0, _unconfirmed.Observations?.Payload.Count ?? 0);
        }
    }

    private const int DeactivationFlushAttempts = 3;

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: deactivating with deliveries whose calls failed and that their receivers may or may not have applied (do not replay them blindly): {Partials} window pre-aggregates, counts of {Reviews} reviews, {Observations} anomaly observations")]
    private partial void LogUnconfirmedOnDeactivation(long partition, int partials, long reviews, int observations);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: deactivating with undelivered work, now lost: {Partials} window pre-aggregates, counts of {Reviews} reviews, {Observations} anomaly observations, {DeadLetters} dead letters")]
    private partial void LogUndeliveredOnDeactivation(long partition, int partials, long reviews, int observations, int deadLetters);

    public Task<PartitionStats> GetStats() => Task.FromResult(new PartitionStats
    {
        Scored = _stats.Scored,
        LatencyBuckets = (long[])_stats.LatencyBuckets.Clone(),
    });

    public Task<string> GetHost() => Task.FromResult(RuntimeIdentity);

    public Task<bool> MoveIfMisplaced(string silo)
    {
        if (silo == RuntimeIdentity)
        {
            return Task.FromResult(false);
        }
        // Moves once no request runs; the placement director picks the silo (OnDeactivateAsync flushes or saves first).
        this.MigrateOnIdle();
        return Task.FromResult(true);
    }

    private async Task OnBatchAsync(ReviewBatch batch, StreamSequenceToken? token)
    {
        while (_flushInFlight is { } inFlight && _buffers.Observations.Count >= MaxBufferedReviews)
        {
            await inFlight;
        }
        Process(batch);
    }

    /// <summary>
    /// A delivery failure reported by the stream, such as batches purged from the queue cache before this grain read
    /// them (it lagged more than Streams:CacheMaxAgeSeconds behind). The reviews are gone; the loss is logged and
    /// kept as a dead letter so that it does not pass unnoticed.
    /// </summary>
    private Task OnStreamErrorAsync(Exception error)
    {
        LogStreamError(error, this.GetPrimaryKeyLong());
        _buffers.RecordStreamError($"{error.GetType().Name}: {error.Message}", clock.GetUtcNow().ToUnixTimeMilliseconds());
        return Task.CompletedTask;
    }

    private void Process(ReviewBatch batch)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        ReviewMessage[] reviews;
        try
        {
            reviews = batch.Decode();
        }
        catch (InvalidDataException ex)
        {
            // Another producer's malformed batch: its reviews cannot be read, but its loss is recorded and the
            // partition goes on with the next batch.
            // The declared count comes from the same untrusted producer: a review takes at least two bytes.
            var lost = Math.Clamp(batch.Count, 0, batch.Payload.Length / 2);
            LogUndecodableBatch(ex, this.GetPrimaryKeyLong(), lost);
            _buffers.RecordUndecodableBatch(lost, ex.Message, now);
            return;
        }
        _accepted.Clear();
        _acceptedIdHashes.Clear();
        _texts.Clear();
        _rejected.Clear();
        var duplicates = 0;
        foreach (var review in reviews)
        {
            var rejection = ReviewValidator.Validate(review);
            if (rejection is not null)
            {
                _rejected.Add((review, rejection));
                continue;
            }
            var idHash = DistinctCounter.Hash(review.ReviewId);
            if (!_seen.TryAdd(idHash, now))
            {
                duplicates++;
                continue;
            }
            _accepted.Add(review);
            _acceptedIdHashes.Add(idHash);
            _texts.Add(review.ReviewBody);
        }

        if (_scores.Length < _accepted.Count)
        {
            _scores = new SentimentResult[Math.Max(_accepted.Count, _scores.Length * 2)];
        }
        try
        {
            if (_accepted.Count > 0)
            {
                scorer.Score(_texts, _scores.AsSpan(0, _accepted.Count));
            }
        }
        catch
        {
            // The stream delivers the batch again (and dead-letters it if that keeps failing): nothing of it may
            // stay behind, or the retry would count its reviews as duplicates and its rejections twice.
            foreach (var idHash in _acceptedIdHashes)
            {
                _seen.Remove(idHash);
            }
            throw;
        }
        foreach (var (review, rejection) in _rejected)
        {
            _buffers.Reject(review, rejection, now);
        }
        _buffers.Counts.Duplicates += duplicates;

        var scoredAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < _accepted.Count; i++)
        {
            var review = _accepted[i];
            var result = _scores[i];
            var timestamp = _options.WindowTime == Analytics.Windows.WindowTime.Event
                ? review.EventTimeMs ?? review.IngestedAtMs
                : review.IngestedAtMs;
            _buffers.Add(review, _acceptedIdHashes[i], result.PredictedStars, result.ExpectedStars, timestamp);
            if (result.PredictedStars <= _options.PriorityMaxStars)
            {
                _buffers.AddPriority(review, result.PredictedStars, result.ExpectedStars, scoredAt);
            }
            _buffers.Observations.Add(new AnomalyObservation
            {
                TimeMs = scoredAt,
                ReviewId = review.ReviewId,
                Category = review.ProductCategory,
                Features = _features.Extract(review, result.PredictedStars),
            });
            RecordLatency(scoredAt - review.IngestedAtMs);
        }
    }

    private void RecordLatency(long ms)
    {
        _stats.Scored++;
        var bucket = (int)Math.Clamp(ms, 0, PartitionStats.LatencyBucketCount - 1);
        _stats.LatencyBuckets[bucket]++;
    }

    /// <summary>Waits for a flush in flight, then sends what was buffered since; one flush at a time.</summary>
    public async Task Flush()
    {
        while (_flushInFlight is { } inFlight)
        {
            await inFlight;
        }
        if (_buffers.IsEmpty && _unconfirmed.IsEmpty)
        {
            return;
        }
        var flush = SendBuffersAsync();
        _flushInFlight = flush;
        try
        {
            await flush;
        }
        finally
        {
            _flushInFlight = null;
        }
    }

    private async Task SendBuffersAsync()
    {
        var buffers = _buffers;
        _buffers = new PartitionBuffers((long)_options.WindowSize.TotalMilliseconds);
        try
        {
            await buffers.SendAsync(GrainFactory, _options.AnomalyShardOf((int)this.GetPrimaryKeyLong()), _registeredCategories,
                _unconfirmed, NextDelivery);
        }
        catch (Exception ex)
        {
            // Nothing is dropped: SendAsync removed each part it delivered and kept each failed delivery to an adding
            // receiver as unconfirmed; what it did not attempt goes back in front of what arrived meanwhile.
            LogFlushFailed(ex, this.GetPrimaryKeyLong());
            buffers.FoldInto(_buffers);
            var dropped = _buffers.Bound(MaxPendingObservations, _options.PriorityQueueCapacity, MaxPendingDeadLetters, clock.GetUtcNow().ToUnixTimeMilliseconds());
            if (dropped != default)
            {
                LogPendingDropped(this.GetPrimaryKeyLong(), dropped.Observations, dropped.PriorityReviews, dropped.DeadLetters);
            }
        }
    }

    private DeliveryToken NextDelivery() => new(this.GetPrimaryKeyLong(), _deliveryEpoch, ++_deliverySequence);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: downstream keeps failing; dropped {Observations} pending anomaly observations, {PriorityReviews} priority reviews and {DeadLetters} dead letters")]
    private partial void LogPendingDropped(long partition, int observations, int priorityReviews, int deadLetters);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: the reviews stream reported a delivery failure; reviews may have been lost")]
    private partial void LogStreamError(Exception error, long partition);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: a batch of {Count} reviews could not be decoded and was dead-lettered")]
    private partial void LogUndecodableBatch(Exception error, long partition, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: flushing downstream failed; will retry")]
    private partial void LogFlushFailed(Exception ex, long partition);
}
