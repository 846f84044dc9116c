using System.Diagnostics;
using ReviewOrleans.Contracts.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Streams;
using ReviewOrleans.Analytics.Counting;
using ReviewOrleans.Analytics.Dedup;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Sentiment;
using System.Runtime.InteropServices;
using Orleans.Serialization;

namespace ReviewOrleans.Grains;

/// <summary>
/// One partition of the "reviews" stream. Per batch it validates, de-duplicates, scores sentiment in one model run
/// and appends the batch's effects to the partition's durable log (<see cref="IPartitionLog"/>) before the stream
/// counts the batch as handled; a timer sends the effects downstream, so each downstream grain gets one call per
/// flush interval from each partition however high the rate.
/// </summary>
/// <remarks>
/// <para>Exactly-once effect across crashes: each delivery to a receiver covers a range of log sequences
/// (<see cref="LogRange"/>), and receivers that add things up keep the sequence they applied through with their
/// saved state. A receiver that lost unsaved state refuses the next delivery with its saved mark, and the partition
/// re-sends from there, read back from its log. A new activation (after a crash, a restart or a move) rebuilds its
/// recent-id filter from the log's id rows and re-sends the effect rows not yet known to be saved; a batch the
/// stream delivers again is recognised by its batch id and skipped without counting.</para>
/// <para>Reentrant so that scoring goes on while a flush waits for the downstream grains (the forests above all).
/// Batches arrive one at a time; a flush reads the log only for receivers that fell behind.</para>
/// </remarks>
[Reentrant]
[ImplicitStreamSubscription(StreamNames.Reviews)]
[SpreadByKeyPlacement]
[GrainType("review-partition")]
public sealed partial class ReviewPartitionGrain(
    ISentimentScorer scorer,
    IPartitionLog log,
    Serializer<PartitionLogEntry> entrySerializer,
    IOptions<PipelineOptions> options,
    TimeProvider clock,
    ILogger<ReviewPartitionGrain> logger) : Grain, IReviewPartitionGrain
{
    /// <summary>Scored reviews buffered while a flush is in flight, beyond which new batches wait for it.</summary>
    public const int MaxBufferedReviews = 50_000;

    /// <summary>Log rows read back per flush for receivers that fell behind.</summary>
    public const int MaxReplayRows = 512;

    private static readonly TimeSpan TruncateInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MarksQueryInterval = TimeSpan.FromSeconds(1);

    private readonly PipelineOptions _options = options.Value;
    private readonly List<string> _texts = [];
    private readonly List<ReviewMessage> _accepted = [];
    private readonly List<ulong> _acceptedIdHashes = [];
    private readonly List<(ReviewMessage Review, ReviewRejection Rejection)> _rejected = [];
    private readonly List<ReviewMessage> _valid = [];
    private readonly HashSet<string> _newCategories = new(StringComparer.Ordinal);

    /// <summary>Categories the directory admitted, so that it is asked only about new ones (at most Pipeline:MaxCategories).</summary>
    private readonly HashSet<string> _admittedCategories = new(StringComparer.Ordinal);
    private readonly PartitionStats _stats = new();
    private readonly Dictionary<Receiver, ReceiverCursor> _cursors = [];
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private SentimentResult[] _scores = new SentimentResult[256];
    private PartitionBuffers _buffers = null!;
    private RecentIdFilter _seen = null!;
    private AnomalyFeatures _features = null!;
    private Task? _flushInFlight;
    private int _partition;
    private int _anomalyShard;
    private long _head;            // the last log sequence appended; _buffers holds the rows since the last flush began
    private long _activationHead;  // receivers first met by this activation are assumed to stand here
    private long _lastTruncateMs;
    private long _lastMarksQueryMs;

    /// <summary>What this activation knows of one receiver's position in the log.</summary>
    private sealed class ReceiverCursor
    {
        /// <summary>The sequence the receiver applied through, as far as known.</summary>
        public long Applied;

        /// <summary>The sequence its saved state covers (0 until it answered).</summary>
        public long Durable;

        /// <summary>The last row with a part for it.</summary>
        public long LastPart;

        /// <summary>Its parts after <see cref="Applied"/> must be read back from the log: a call failed or was refused, or a new activation.</summary>
        public bool Behind;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        _partition = (int)this.GetPrimaryKeyLong();
        _anomalyShard = _options.AnomalyShardOf(_partition);
        _seen = new RecentIdFilter(_options.DedupHorizon, _options.DedupCapacityPerPartition, now);
        _features = new AnomalyFeatures(_options.AnomalyProfile, _options.KnownCategories);
        _buffers = NewBuffers();

        var recovery = await log.RecoverAsync(_partition, now - (long)_options.DedupHorizon.TotalMilliseconds,
            _options.DedupCapacityPerPartition, cancellationToken);
        foreach (var (atMs, idHashes) in recovery.Ids)
        {
            foreach (var idHash in MemoryMarshal.Cast<byte, ulong>(idHashes))
            {
                _seen.TryAdd(idHash, atMs);
            }
        }
        _head = _activationHead = recovery.Head;
        if (recovery.Effects.Count > 0)
        {
            // Rows a previous activation logged and whose parts not every receiver confirmed saving: each receiver
            // named in them is asked from just before the first, and answers with where it really stands.
            var before = recovery.Effects[0].Sequence - 1;
            foreach (var row in recovery.Effects)
            {
                var effects = NewBuffers();
                effects.Fold(Decode(row));
                foreach (var receiver in effects.Receivers(_anomalyShard))
                {
                    var cursor = CursorOf(receiver, assumeApplied: before);
                    cursor.Behind = true;
                    cursor.LastPart = row.Sequence;
                }
            }
            LogRecovered(_partition, recovery.Effects.Count, recovery.Effects[0].Sequence, _head, _cursors.Count);
        }

        var stream = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<ReviewBatch>(StreamId.Create(StreamNames.Reviews, _partition));
        await stream.SubscribeAsync(OnBatchAsync, OnStreamErrorAsync);

        this.RegisterGrainTimer(static (grain, _) => grain.Flush(), this,
            new GrainTimerCreationOptions(_options.FlushInterval, _options.FlushInterval) { KeepAlive = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Nothing here can be lost any more (the log holds it), but delivering now spares the next activation the
        // replay, and lets the partition's receivers close their windows on time.
        try
        {
            await Flush();
        }
        catch (Exception ex)
        {
            LogDeactivationFlushFailed(ex, _partition);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Partition {Partition}: recovered {Rows} logged batches from sequence {From} through {Head} for {Receivers} receivers")]
    private partial void LogRecovered(int partition, int rows, long from, long head, int receivers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: the last flush before deactivating failed; the next activation delivers from the log")]
    private partial void LogDeactivationFlushFailed(Exception ex, int partition);

    public Task<PartitionStats> GetStats() => Task.FromResult(new PartitionStats
    {
        Scored = _stats.Scored,
        LatencyBuckets = (long[])_stats.LatencyBuckets.Clone(),
        ReplayedBatches = _stats.ReplayedBatches,
        LogHead = _head,
    });

    public Task<string> GetHost() => Task.FromResult(RuntimeIdentity);

    public Task<bool> MoveIfMisplaced(string silo)
    {
        if (silo == RuntimeIdentity)
        {
            return Task.FromResult(false);
        }
        // Moves once no request runs; the placement director picks the silo (OnDeactivateAsync flushes first).
        this.MigrateOnIdle();
        return Task.FromResult(true);
    }

    private async Task OnBatchAsync(ReviewBatch batch, StreamSequenceToken? token)
    {
        while (_flushInFlight is { } inFlight && _buffers.Observations.Count >= MaxBufferedReviews)
        {
            await inFlight;
        }
        await ProcessAsync(batch);
    }

    /// <summary>
    /// A delivery failure reported by the stream, such as batches purged from the queue cache before this grain read
    /// them (it lagged more than Streams:CacheMaxAgeSeconds behind). The reviews are gone; the loss is logged and
    /// kept as a dead letter so that it does not pass unnoticed.
    /// </summary>
    private async Task OnStreamErrorAsync(Exception error)
    {
        LogStreamError(error, _partition);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var effects = NewBuffers();
        effects.RecordStreamError($"{error.GetType().Name}: {error.Message}", now);
        await AppendAsync(effects, [], now);
    }

    private async Task ProcessAsync(ReviewBatch batch)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var batchHash = BatchHash(batch.BatchId);
        if (batch.BatchId != 0 && !_seen.TryAdd(batchHash, now))
        {
            // Logged already: the stream delivered it again after a crash or a timeout. Counting it again would
            // make its reviews duplicates of themselves.
            _stats.ReplayedBatches++;
            return;
        }
        using var activity = StartScoringActivity(batch);
        var effects = NewBuffers();
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
            LogUndecodableBatch(ex, _partition, lost);
            effects.RecordUndecodableBatch(lost, ex.Message, now);
            await AppendOrForgetAsync(effects, batch.BatchId != 0 ? [batchHash] : [], now);
            ReviewTelemetry.RecordRefused("batch.decode", "stream", lost);
            return;
        }
        _accepted.Clear();
        _acceptedIdHashes.Clear();
        _texts.Clear();
        _rejected.Clear();
        if (batch.BatchId != 0)
        {
            _acceptedIdHashes.Add(batchHash);
        }
        _valid.Clear();
        _newCategories.Clear();
        foreach (var review in reviews)
        {
            var rejection = ReviewValidator.Validate(review);
            if (rejection is not null)
            {
                _rejected.Add((review, rejection));
                continue;
            }
            _valid.Add(review);
            if (!_admittedCategories.Contains(review.ProductCategory))
            {
                _newCategories.Add(review.ProductCategory);
            }
        }
        if (_newCategories.Count > 0)
        {
            try
            {
                _admittedCategories.UnionWith(await GrainFactory.GetGrain<ICategoryDirectoryGrain>(0).Admit([.. _newCategories]));
            }
            catch
            {
                // The stream delivers the batch again; it must not be taken for a replay of itself then.
                Forget(_acceptedIdHashes);
                throw;
            }
        }
        var duplicates = 0;
        foreach (var review in _valid)
        {
            if (!_admittedCategories.Contains(review.ProductCategory))
            {
                _rejected.Add((review, new ReviewRejection("product_category", "limit_reached",
                    $"the platform takes at most {_options.MaxCategories:N0} distinct product categories (Pipeline:MaxCategories), " +
                    $"and '{review.ProductCategory}' would be a new one")));
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
        var firstReview = batch.BatchId != 0 ? 1 : 0; // _acceptedIdHashes[firstReview + i] belongs to _accepted[i]

        if (_scores.Length < _accepted.Count)
        {
            _scores = new SentimentResult[Math.Max(_accepted.Count, _scores.Length * 2)];
        }
        var scoringMs = 0.0;
        try
        {
            if (_accepted.Count > 0)
            {
                var started = Stopwatch.GetTimestamp();
                scorer.Score(_texts, _scores.AsSpan(0, _accepted.Count));
                scoringMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }
        catch
        {
            // The stream delivers the batch again (and dead-letters it if that keeps failing): nothing of it may
            // stay behind, or the retry would count its reviews as duplicates and its rejections twice.
            Forget(_acceptedIdHashes);
            throw;
        }
        foreach (var (review, rejection) in _rejected)
        {
            effects.Reject(review, rejection, now);
        }
        effects.Counts.Duplicates += duplicates;

        var scoredAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < _accepted.Count; i++)
        {
            var review = _accepted[i];
            var result = _scores[i];
            var timestamp = _options.WindowTime == Analytics.Windows.WindowTime.Event
                ? review.EventTimeMs ?? review.IngestedAtMs
                : review.IngestedAtMs;
            effects.Add(review, _acceptedIdHashes[firstReview + i], result.PredictedStars, result.ExpectedStars, timestamp);
            if (result.PredictedStars <= _options.PriorityMaxStars)
            {
                effects.AddPriority(review, result.PredictedStars, result.ExpectedStars, scoredAt);
            }
            effects.Observations.Add(new AnomalyObservation
            {
                TimeMs = scoredAt,
                ReviewId = review.ReviewId,
                Category = review.ProductCategory,
                Features = _features.Extract(review, result.PredictedStars),
                Scored = _options.DeliverScoredReviews ? ScoredFieldsOf(review, result) : null,
            });
        }
        await AppendOrForgetAsync(effects, [.. _acceptedIdHashes], now);
        for (var i = 0; i < _accepted.Count; i++)
        {
            RecordLatency(scoredAt - _accepted[i].IngestedAtMs);
        }
        RecordTelemetry(duplicates, scoringMs);
    }

    private static ScoredFields ScoredFieldsOf(ReviewMessage review, in SentimentResult result)
    {
        var probabilities = new float[SentimentResult.StarCount];
        result.CopyProbabilitiesTo(probabilities);
        return new ScoredFields
        {
            Source = review.SourceOrUnknown,
            StarRating = review.StarRating,
            PredictedStars = result.PredictedStars,
            Probabilities = probabilities,
            ExpectedStars = result.ExpectedStars,
            IngestedAtMs = review.IngestedAtMs,
            EventTimeMs = review.EventTimeMs,
            ModelVersion = result.Model.Version,
        };
    }

    /// <summary>A span of the batch's trace (from the gateway call that published it), when anything listens.</summary>
    private Activity? StartScoringActivity(ReviewBatch batch)
    {
        if (!ReviewTelemetry.Source.HasListeners())
        {
            return null;
        }
        var activity = batch.TraceParent is { } parent && ActivityContext.TryParse(parent, null, out var context)
            ? ReviewTelemetry.Source.StartActivity("score reviews", ActivityKind.Consumer, context)
            : ReviewTelemetry.Source.StartActivity("score reviews", ActivityKind.Consumer);
        activity?.SetTag("revieworleans.partition", _partition);
        activity?.SetTag("revieworleans.reviews", batch.Count);
        return activity;
    }

    /// <summary>The batch's figures for the meters (<see cref="ReviewTelemetry"/>), once its effects are logged.</summary>
    private void RecordTelemetry(int duplicates, double scoringMs)
    {
        ReviewTelemetry.Accepted.Add(_accepted.Count);
        if (duplicates > 0)
        {
            ReviewTelemetry.Duplicates.Add(duplicates);
        }
        foreach (var (_, rejection) in _rejected)
        {
            ReviewTelemetry.RecordRefused(rejection.Code, "partition");
        }
        if (_accepted.Count > 0)
        {
            ReviewTelemetry.ScoringDuration.Record(scoringMs);
        }
    }

    /// <summary>Appends; when that fails the batch's ids are forgotten, so that the stream's redelivery is not taken for duplicates.</summary>
    private async Task AppendOrForgetAsync(PartitionBuffers effects, ulong[] idHashes, long nowMs)
    {
        try
        {
            await AppendAsync(effects, idHashes, nowMs);
        }
        catch
        {
            Forget(idHashes);
            throw;
        }
    }

    private void Forget(IEnumerable<ulong> idHashes)
    {
        foreach (var idHash in idHashes)
        {
            _seen.Remove(idHash);
        }
    }

    /// <summary>
    /// Logs one batch's effects and only then buffers them for the next flush. Until the stream hears that the batch
    /// was handled, a crash means it is delivered again; once it has, the log holds everything the batch did.
    /// </summary>
    private async Task AppendAsync(PartitionBuffers effects, ulong[] idHashes, long nowMs)
    {
        var entry = effects.ToEntry();
        var body = entrySerializer.SerializeToArray(entry);
        await _appendLock.WaitAsync();
        try
        {
            var sequence = _head + 1;
            try
            {
                await log.AppendAsync(_partition, sequence, nowMs, MemoryMarshal.AsBytes(idHashes.AsSpan()).ToArray(), body);
            }
            catch (PartitionLogConflictException ex)
            {
                // Another activation of this partition is appending (a failover's brief overlap): this one is stale.
                LogStaleActivation(ex, _partition, sequence);
                this.DeactivateOnIdle();
                throw;
            }
            _head = sequence;
            foreach (var receiver in effects.Receivers(_anomalyShard))
            {
                CursorOf(receiver, assumeApplied: _activationHead).LastPart = sequence;
            }
            _buffers.Fold(entry);
        }
        finally
        {
            _appendLock.Release();
        }
    }

    private static ulong BatchHash(long batchId)
    {
        // A batch id must not be mistaken for a review id's hash: the filter holds both, so mix it with a domain tag.
        var z = unchecked((ulong)batchId + 0x6261746368000000UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    private PartitionLogEntry Decode(PartitionLogRow row)
    {
        try
        {
            return entrySerializer.Deserialize(row.Body) ?? new PartitionLogEntry();
        }
        catch (Exception ex)
        {
            LogUnreadableRow(ex, _partition, row.Sequence);
            return new PartitionLogEntry();
        }
    }

    private PartitionBuffers NewBuffers() => new((long)_options.WindowSize.TotalMilliseconds);

    private ReceiverCursor CursorOf(Receiver receiver, long assumeApplied)
    {
        if (!_cursors.TryGetValue(receiver, out var cursor))
        {
            cursor = new ReceiverCursor { Applied = assumeApplied };
            _cursors[receiver] = cursor;
        }
        return cursor;
    }

    /// <summary>One review's ingest → scored time, for <see cref="GetStats"/> and the meter alike.</summary>
    private void RecordLatency(long ms)
    {
        ReviewTelemetry.IngestToScored.Record(ms);
        _stats.Scored++;
        var bucket = (int)Math.Clamp(ms, 0, PartitionStats.LatencyBucketCount - 1);
        _stats.LatencyBuckets[bucket]++;
    }

    /// <summary>Waits for a flush in flight, then sends what was logged since; one flush at a time.</summary>
    public async Task Flush()
    {
        while (_flushInFlight is { } inFlight)
        {
            await inFlight;
        }
        var flush = SendAsync();
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

    private async Task SendAsync()
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var head = _head;
        var fresh = _buffers;
        _buffers = NewBuffers();

        var sends = new List<(Receiver Receiver, LogRange Range, bool FromLog, Task<DeliveryReceipt> Call)>();
        var freshReceivers = fresh.Receivers(_anomalyShard).ToHashSet();
        foreach (var receiver in freshReceivers)
        {
            var cursor = _cursors[receiver];
            if (!cursor.Behind)
            {
                // The receiver has no parts in (Applied, the previous flush]: this flush's part follows on directly.
                var range = new LogRange(_partition, cursor.Applied, head);
                sends.Add((receiver, range, false, fresh.SendAsync(GrainFactory, receiver, range)));
            }
        }

        var behind = _cursors.Where(c => c.Value.Behind).ToList();
        if (behind.Count > 0)
        {
            await SendFromLogAsync(behind, head, sends);
        }

        if (now - _lastMarksQueryMs >= MarksQueryInterval.TotalMilliseconds)
        {
            // Receivers save on their own schedule; asking (an empty range) tells how far the log may be forgotten.
            _lastMarksQueryMs = now;
            foreach (var (receiver, cursor) in _cursors)
            {
                if (receiver.KeepsMarks && !cursor.Behind && cursor.Durable < cursor.LastPart && !freshReceivers.Contains(receiver))
                {
                    var range = new LogRange(_partition, cursor.Applied, cursor.Applied);
                    sends.Add((receiver, range, false, NewBuffers().SendAsync(GrainFactory, receiver, range)));
                }
            }
        }

        Exception? failure = null;
        foreach (var (receiver, range, fromLog, call) in sends)
        {
            var cursor = _cursors[receiver];
            try
            {
                var receipt = await call;
                cursor.Durable = Math.Max(cursor.Durable, receipt.DurableThrough);
                if (receipt.Accepted)
                {
                    cursor.Applied = Math.Max(receipt.AppliedThrough, range.To);
                    if (fromLog)
                    {
                        cursor.Behind = cursor.Applied < head; // more rows than one read: the next flush goes on
                    }
                }
                else
                {
                    LogRefused(_partition, receiver.ToString(), range.From, range.To, receipt.AppliedThrough);
                    cursor.Applied = receipt.AppliedThrough;
                    cursor.Behind = true;
                }
            }
            catch (Exception ex)
            {
                // Applied or not: the receiver says which when the rows are sent again, read back from the log.
                cursor.Behind = true;
                failure ??= ex;
            }
        }
        if (failure is not null)
        {
            LogFlushFailed(failure, _partition);
        }

        if (now - _lastTruncateMs >= TruncateInterval.TotalMilliseconds)
        {
            _lastTruncateMs = now;
            await TruncateAsync(now);
        }
    }

    /// <summary>Re-sends to receivers that fell behind their parts, read back from the log (one read for all of them).</summary>
    private async Task SendFromLogAsync(List<KeyValuePair<Receiver, ReceiverCursor>> behind, long head,
        List<(Receiver, LogRange, bool, Task<DeliveryReceipt>)> sends)
    {
        var from = behind.Min(c => c.Value.Applied);
        IReadOnlyList<PartitionLogRow> rows;
        try
        {
            rows = await log.ReadEffectsAsync(_partition, from, head, MaxReplayRows);
        }
        catch (Exception ex)
        {
            LogReplayReadFailed(ex, _partition);
            return;
        }
        var through = rows.Count == MaxReplayRows ? rows[^1].Sequence : head;
        var entries = rows.Select(r => (r.Sequence, Entry: Decode(r))).ToList();
        foreach (var group in behind.GroupBy(c => c.Value.Applied))
        {
            if (group.Key >= through)
            {
                foreach (var (_, cursor) in group)
                {
                    cursor.Behind = cursor.Applied < head;
                }
                continue;
            }
            var replay = NewBuffers();
            foreach (var (sequence, entry) in entries)
            {
                if (sequence > group.Key)
                {
                    replay.Fold(entry);
                }
            }
            foreach (var (receiver, _) in group)
            {
                var range = new LogRange(_partition, group.Key, through);
                sends.Add((receiver, range, true, replay.SendAsync(GrainFactory, receiver, range)));
            }
        }
    }

    /// <summary>Forgets effect rows that every receiver with a part in them has saved, and ids past the horizon.</summary>
    private async Task TruncateAsync(long now)
    {
        var through = _head;
        foreach (var cursor in _cursors.Values)
        {
            if (cursor.Durable < cursor.LastPart)
            {
                through = Math.Min(through, cursor.Durable);
            }
        }
        try
        {
            await log.TruncateAsync(_partition, through, now - (long)_options.DedupHorizon.TotalMilliseconds, _head);
        }
        catch (Exception ex)
        {
            LogTruncateFailed(ex, _partition);
            return;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Partition {Partition}: {Receiver} refused log rows ({From}, {To}]: it stands at {Applied}; re-sending from there")]
    private partial void LogRefused(int partition, string receiver, long from, long to, long applied);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: another activation appended log sequence {Sequence}; this one deactivates")]
    private partial void LogStaleActivation(Exception ex, int partition, long sequence);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: log row {Sequence} cannot be read and is skipped")]
    private partial void LogUnreadableRow(Exception ex, int partition, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: reading the log back for receivers that fell behind failed; will retry")]
    private partial void LogReplayReadFailed(Exception ex, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: forgetting delivered log rows failed; will retry")]
    private partial void LogTruncateFailed(Exception ex, int partition);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: the reviews stream reported a delivery failure; reviews may have been lost")]
    private partial void LogStreamError(Exception error, int partition);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition {Partition}: a batch of {Count} reviews could not be decoded and was dead-lettered")]
    private partial void LogUndecodableBatch(Exception error, int partition, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: delivering downstream failed; the log holds it and it goes again")]
    private partial void LogFlushFailed(Exception ex, int partition);
}
