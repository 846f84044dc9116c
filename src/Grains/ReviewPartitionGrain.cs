using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
[ImplicitStreamSubscription(StreamNames.Reviews)]
[GrainType("review-partition")]
public sealed partial class ReviewPartitionGrain(
    ISentimentScorer scorer,
    IOptions<PipelineOptions> options,
    TimeProvider clock,
    ILogger<ReviewPartitionGrain> logger) : Grain, IReviewPartitionGrain
{
    private readonly PipelineOptions _options = options.Value;
    private readonly List<string> _texts = [];
    private readonly List<ReviewMessage> _accepted = [];
    private readonly PartitionStats _stats = new();
    private readonly HashSet<string> _registeredCategories = new(StringComparer.Ordinal);
    private SentimentResult[] _scores = new SentimentResult[256];
    private PartitionBuffers _buffers = null!;
    private RecentIdFilter _seen = null!;
    private AnomalyFeatures _features = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        _seen = new RecentIdFilter(_options.DedupHorizon, _options.DedupCapacityPerPartition, now);
        _features = new AnomalyFeatures(_options.AnomalyProfile, _options.KnownCategories);
        _buffers = new PartitionBuffers((long)_options.WindowSize.TotalMilliseconds);

        var stream = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<ReviewBatch>(StreamId.Create(StreamNames.Reviews, this.GetPrimaryKeyLong()));
        await stream.SubscribeAsync(OnBatchAsync);

        this.RegisterGrainTimer(static (grain, _) => grain.Flush(), this,
            new GrainTimerCreationOptions(_options.FlushInterval, _options.FlushInterval) { KeepAlive = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await Flush();
    }

    public Task<PartitionStats> GetStats() => Task.FromResult(new PartitionStats
    {
        Scored = _stats.Scored,
        LatencyBuckets = (long[])_stats.LatencyBuckets.Clone(),
    });

    private Task OnBatchAsync(ReviewBatch batch, StreamSequenceToken? token)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        _accepted.Clear();
        _texts.Clear();
        foreach (var review in batch.Reviews)
        {
            var rejection = ReviewValidator.Validate(review);
            if (rejection is not null)
            {
                _buffers.Reject(review, rejection, now);
                continue;
            }
            if (!_seen.TryAdd(DistinctCounter.Hash(review.ReviewId), now))
            {
                _buffers.Counts.Duplicates++;
                continue;
            }
            _accepted.Add(review);
            _texts.Add(review.ReviewBody);
        }
        if (_accepted.Count == 0)
        {
            return Task.CompletedTask;
        }

        if (_scores.Length < _accepted.Count)
        {
            _scores = new SentimentResult[Math.Max(_accepted.Count, _scores.Length * 2)];
        }
        scorer.Score(_texts, _scores.AsSpan(0, _accepted.Count));

        var scoredAt = clock.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < _accepted.Count; i++)
        {
            var review = _accepted[i];
            var result = _scores[i];
            var timestamp = _options.WindowTime == Analytics.Windows.WindowTime.Event
                ? review.EventTimeMs ?? review.IngestedAtMs
                : review.IngestedAtMs;
            _buffers.Add(review, result.PredictedStars, result.ExpectedStars, timestamp);
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
        return Task.CompletedTask;
    }

    private void RecordLatency(long ms)
    {
        _stats.Scored++;
        var bucket = (int)Math.Clamp(ms, 0, PartitionStats.LatencyBucketCount - 1);
        _stats.LatencyBuckets[bucket]++;
    }

    public async Task Flush()
    {
        if (_buffers is null || _buffers.IsEmpty)
        {
            return;
        }
        var buffers = _buffers;
        _buffers = new PartitionBuffers((long)_options.WindowSize.TotalMilliseconds);
        try
        {
            await buffers.SendAsync(GrainFactory, (int)this.GetPrimaryKeyLong(), _registeredCategories);
        }
        catch (Exception ex)
        {
            // Nothing is dropped: SendAsync removes each part once delivered, and the grain is not reentrant, so no
            // batch arrived meanwhile; what is left is retried on the next flush.
            LogFlushFailed(ex, this.GetPrimaryKeyLong());
            _buffers = buffers;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: flushing downstream failed; will retry")]
    private partial void LogFlushFailed(Exception ex, long partition);
}
