using ReviewOrleans.Contracts.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using ReviewOrleans.Analytics.Forest;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Delivery;

namespace ReviewOrleans.Grains;

/// <summary>Persisted state of an <see cref="AnomalyGrain"/>: the model survives restarts instead of cold-starting.</summary>
[GenerateSerializer, Alias("anomaly-state.v1")]
public sealed class AnomalyState
{
    [Id(0)] public string Profile { get; set; } = "";
    [Id(1)] public byte[]? Forest { get; set; }
    [Id(2)] public byte[]? Grader { get; set; }
    [Id(3)] public List<AnomalyAlertRecord> Alerts { get; set; } = [];
    [Id(4)] public double LastScore { get; set; }
    [Id(5)] public double LastGrade { get; set; }

    /// <summary>The log sequence applied through from each partition; saved with the forest it went into.</summary>
    [Id(7)] public DeliveryMarks Marks { get; set; } = new();

    /// <summary>The newest windows' highest grades (Pipeline:HistoryWindows of them), oldest first.</summary>
    [Id(8)] public List<AnomalyGradeWindowRecord> Grades { get; set; } = [];
}

/// <summary>
/// A Random Cut Forest over the reviews of the partitions that feed it (<see cref="PipelineOptions.AnomalyShardOf"/>;
/// the key is the shard): score, grade against the recent scores, then update. When the
/// grade rises from zero it publishes an alert with the per-feature attribution on the "alerts" stream.
/// </summary>
[SpreadByKeyPlacement]
[GrainType("anomaly")]
public sealed partial class AnomalyGrain(
    [PersistentState("anomaly-model", StorageNames.Default)] IPersistentState<AnomalyState> state,
    IOptions<PipelineOptions> options,
    ScoredReviewDelivery delivery,
    ILogger<AnomalyGrain> logger) : Grain, IAnomalyGrain
{
    public const int AlertsKept = 100;

    /// <summary>How long a save waits for the delivery of what the shard scored before it is put off to the next.</summary>
    private static readonly TimeSpan DeliveryWait = TimeSpan.FromSeconds(5);

    private readonly PipelineOptions _options = options.Value;
    private RandomCutForest _forest = null!;
    private RandomCutForest? _before; // the forest as it was before the delivery being learnt in one batch
    private AnomalyGrader _grader = null!;
    private IReadOnlyList<string> _featureNames = [];
    private IAsyncStream<AnomalyAlertRecord> _alerts = null!;
    private bool _dirty;
    private long _deliveryTicket; // the delivery's ticket of the last scored review this activation appended

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _featureNames = AnomalyFeatures.NamesOf(_options.AnomalyProfile);
        var saved = state.State;
        if (!(saved.Forest is not null && saved.Grader is not null && saved.Profile == _options.AnomalyProfile && TryRestore(saved)))
        {
            if (saved.Forest is not null && saved.Profile != _options.AnomalyProfile)
            {
                LogProfileChanged(this.GetPrimaryKeyLong(), saved.Profile, _options.AnomalyProfile);
            }
            _forest = new RandomCutForest(_options.ForestOptions(_featureNames.Count, seed: 42 + this.GetPrimaryKeyLong()));
            _grader = new AnomalyGrader();
            // The marks stay: the rows they cover were applied to the model being replaced, not waiting to be.
            state.State = new AnomalyState { Profile = _options.AnomalyProfile, Marks = saved.Marks };
        }
        state.State.Marks.Loaded();
        _alerts = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<AnomalyAlertRecord>(StreamId.Create(StreamNames.Alerts, StreamNames.AllKey));
        this.RegisterGrainTimer(static (grain, _) => grain.SaveIfChangedAsync(), this,
            new GrainTimerCreationOptions(_options.AnomalySaveInterval, _options.AnomalySaveInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => SaveIfChangedAsync();

    public async Task<DeliveryReceipt> Observe(LogRange range, List<AnomalyObservation> observations)
    {
        var current = state.State;
        if (!current.Marks.ShouldApply(range, out var answer))
        {
            return answer; // the forest must not learn rows twice
        }
        var accepted = Accepted(observations);
        var scores = new double[accepted.Count];
        var raised = accepted.Count >= PipelineOptions.AnomalyBatchMinimum
            ? await ObserveBatchAsync(accepted, scores)
            : ObserveOneByOne(accepted, scores);
        current.Marks.MarkApplied(range);
        _dirty = true;
        if (delivery.Enabled)
        {
            // Waits while a destination's buffer is full: the partitions' flushes wait in turn, and so on upstream.
            _deliveryTicket = await delivery.AppendAsync(ScoredReviews(observations, accepted, scores));
        }
        if (accepted.Count > 0)
        {
            ReviewTelemetry.AnomalyGrade.Record(current.LastGrade, new KeyValuePair<string, object?>("shard", this.GetPrimaryKeyLong()));
        }
        if (raised is not null)
        {
            ReviewTelemetry.Alerts.Add(raised.Count);
            current.Alerts.AddRange(raised);
            current.Alerts.KeepNewest(AlertsKept);
            try
            {
                await _alerts.OnNextBatchAsync(raised);
            }
            catch (Exception ex)
            {
                // The forest has learnt these observations and the alerts are stored (GetStatus returns them): failing
                // the call would make the partition send the observations again, learnt twice, alerts raised twice.
                LogAlertsNotPublished(ex, this.GetPrimaryKeyLong(), raised.Count);
            }
        }
        return current.Marks.Receipt(range);
    }

    /// <summary>
    /// The observations the forest takes. One with another feature count (a partition configured with another
    /// profile during a rolling change) or a value the forest refuses (not finite, beyond single precision) is
    /// logged and skipped, so that the call still applies the rest of the delivery once and its range is recorded:
    /// half a delivery re-sent would be learnt twice.
    /// </summary>
    private List<AnomalyObservation> Accepted(List<AnomalyObservation> observations)
    {
        var accepted = new List<AnomalyObservation>(observations.Count);
        foreach (var observation in observations)
        {
            if (observation.Features.Length != _featureNames.Count)
            {
                LogWrongDimensions(this.GetPrimaryKeyLong(), observation.Features.Length, _featureNames.Count);
            }
            else if (_forest.Refusal(observation.Features) is { } reason)
            {
                LogInvalidObservation(this.GetPrimaryKeyLong(), observation.ReviewId, reason);
            }
            else
            {
                accepted.Add(observation);
            }
        }
        return accepted;
    }

    /// <summary>Score, grade, attribute a rising grade, then learn: one point at a time.</summary>
    private List<AnomalyAlertRecord>? ObserveOneByOne(List<AnomalyObservation> observations, double[] scores)
    {
        List<AnomalyAlertRecord>? raised = null;
        var current = state.State;
        for (var i = 0; i < observations.Count; i++)
        {
            var observation = observations[i];
            var score = scores[i] = _forest.Score(observation.Features);
            var grade = _grader.Process(score);
            var detected = grade.IsAnomaly && current.LastGrade <= 0;
            if (detected)
            {
                (raised ??= []).Add(Alert(_forest, observation, score, grade.Grade));
            }
            RecordGrade(observation.TimeMs, score, grade.Grade, detected);
            _forest.Update(observation.Features);
            current.LastScore = score;
            current.LastGrade = grade.Grade;
        }
        return raised;
    }

    /// <summary>
    /// The same for a whole delivery at once: scored and learnt by the forest's batch path (scores identical to
    /// <see cref="ObserveOneByOne"/>, 1.3x faster on one thread), on <see cref="PipelineOptions.AnomalyThreads"/> threads
    /// off the grain scheduler when that is above 1; then graded in order. An alert's attribution must see the forest
    /// as it was at its point, before the points after it were learnt, so a copy of the forest from before the
    /// delivery (<see cref="RandomCutForest.CopyFrom"/>, 0.06 ms) is brought forward to that point when one is raised.
    /// </summary>
    private async Task<List<AnomalyAlertRecord>?> ObserveBatchAsync(List<AnomalyObservation> observations, double[] scores)
    {
        var dims = _featureNames.Count;
        var threads = _options.AnomalyThreads;
        var points = new double[observations.Count * dims];
        for (var i = 0; i < observations.Count; i++)
        {
            observations[i].Features.CopyTo(points, i * dims);
        }
        var before = _before ??= new RandomCutForest(_forest.Options);
        before.CopyFrom(_forest);
        if (threads > 1)
        {
            var forest = _forest;
            await Task.Run(() => forest.ScoreAndUpdate(points, scores, threads));
        }
        else
        {
            _forest.ScoreAndUpdate(points, scores);
        }

        List<AnomalyAlertRecord>? raised = null;
        var current = state.State;
        var caughtUp = 0;
        for (var i = 0; i < observations.Count; i++)
        {
            var grade = _grader.Process(scores[i]);
            var detected = grade.IsAnomaly && current.LastGrade <= 0;
            RecordGrade(observations[i].TimeMs, scores[i], grade.Grade, detected);
            if (detected)
            {
                before.ScoreAndUpdate(points.AsSpan(caughtUp * dims, (i - caughtUp) * dims), new double[i - caughtUp], threads);
                caughtUp = i;
                (raised ??= []).Add(Alert(before, observations[i], scores[i], grade.Grade));
            }
            current.LastScore = scores[i];
            current.LastGrade = grade.Grade;
        }
        return raised;
    }

    /// <summary>
    /// The delivered form of the observations that carry their fields: <paramref name="accepted"/> is the subsequence
    /// the forest scored (<paramref name="scores"/>); the others are delivered without a score rather than not at all.
    /// </summary>
    private static List<ScoredReview> ScoredReviews(List<AnomalyObservation> observations, List<AnomalyObservation> accepted, double[] scores)
    {
        var records = new List<ScoredReview>(observations.Count);
        var next = 0;
        foreach (var observation in observations)
        {
            double? score = null;
            if (next < accepted.Count && ReferenceEquals(accepted[next], observation))
            {
                score = scores[next++];
            }
            if (observation.Scored is not { } fields)
            {
                continue;
            }
            records.Add(new ScoredReview
            {
                ReviewId = observation.ReviewId,
                Category = observation.Category,
                Source = fields.Source,
                StarRating = fields.StarRating,
                PredictedStars = fields.PredictedStars,
                Probabilities = fields.Probabilities,
                ExpectedStars = fields.ExpectedStars,
                AnomalyScore = score,
                IngestedAtMs = fields.IngestedAtMs,
                EventTimeMs = fields.EventTimeMs,
                ModelVersion = fields.ModelVersion,
            });
        }
        return records;
    }

    public Task<string> GetHost() => Task.FromResult(RuntimeIdentity);

    public Task<List<DeliveryStatusRecord>> GetDeliveryStatus() => Task.FromResult(delivery.Status()
        .Select(s => new DeliveryStatusRecord(RuntimeIdentity, s.Destination, s.Delivered, s.DeadLettered, s.Failures, s.Retries,
            s.BufferedRecords, s.BufferedBytes, s.OldestBufferedAgeMs, s.LastLagMs, s.LastDeliveredAtMs, s.LastError, s.LastErrorAtMs))
        .ToList());

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

    /// <summary>Adds a graded point to its window's maximum; the alert rules and the dashboard read these.</summary>
    private void RecordGrade(long timeMs, double score, double grade, bool detected)
    {
        var grades = state.State.Grades;
        var size = (long)_options.WindowSize.TotalMilliseconds;
        var start = TumblingWindowAggregator.WindowStartOf(timeMs, size);
        var window = grades.Count > 0 && grades[^1].StartMs == start ? grades[^1]
            : grades.FindLast(w => w.StartMs == start); // a point scored late lands in its own window
        if (window is null)
        {
            window = new AnomalyGradeWindowRecord { StartMs = start, EndMs = start + size };
            var at = grades.FindLastIndex(w => w.StartMs < start) + 1;
            grades.Insert(at, window);
            if (grades.Count > _options.HistoryWindows)
            {
                grades.RemoveRange(0, grades.Count - _options.HistoryWindows);
            }
        }
        window.MaxGrade = Math.Max(window.MaxGrade, grade);
        window.MaxScore = Math.Max(window.MaxScore, score);
        window.Points++;
        window.Detections += detected ? 1 : 0;
    }

    public Task<List<AnomalyGradeWindowRecord>> GetGrades(long sinceStartMs) =>
        Task.FromResult(state.State.Grades.Where(w => w.StartMs >= sinceStartMs).ToList());

    public Task<AnomalyStatus> GetStatus(int recentAlerts)
    {
        var alerts = state.State.Alerts;
        var take = Math.Clamp(recentAlerts, 0, alerts.Count);
        return Task.FromResult(new AnomalyStatus
        {
            Profile = _options.AnomalyProfile,
            Features = [.. _featureNames],
            Grade = state.State.LastGrade,
            Score = state.State.LastScore,
            PointsSeen = _forest.PointsSeen,
            RecentAlerts = alerts.GetRange(alerts.Count - take, take),
        });
    }

    private AnomalyAlertRecord Alert(RandomCutForest forest, AnomalyObservation observation, double score, double grade)
    {
        var attribution = forest.Attribute(observation.Features, _options.AnomalyThreads);
        var features = new List<FeatureAttributionRecord>(_featureNames.Count);
        for (var d = 0; d < _featureNames.Count; d++)
        {
            features.Add(new FeatureAttributionRecord(_featureNames[d], attribution.Attribution(d), attribution.Strength(d),
                attribution.Direction(d) == AttributionDirection.High ? "HIGH" : "LOW"));
        }
        return new AnomalyAlertRecord
        {
            TimeMs = observation.TimeMs,
            Score = score,
            Grade = grade,
            Shard = (int)this.GetPrimaryKeyLong(),
            ReviewId = observation.ReviewId,
            Category = observation.Category,
            Attribution = features,
        };
    }

    private async Task SaveIfChangedAsync()
    {
        if (!_dirty)
        {
            return;
        }
        // The saved state must not cover a review whose scored record could still be lost with this silo: after a
        // crash the partitions re-send only what the saved marks do not cover, so it is scored and delivered again.
        if (delivery.Enabled && !await delivery.FlushThroughAsync(_deliveryTicket, DeliveryWait))
        {
            LogSavePutOff(this.GetPrimaryKeyLong(), DeliveryWait.TotalSeconds);
            return;
        }
        state.State.Forest = _forest.ToBytes();
        state.State.Grader = _grader.ToBytes();
        await state.State.Marks.SaveAsync(state.WriteStateAsync);
        _dirty = false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly shard {Shard}: model save put off: its scored reviews were not delivered within {Seconds} s (reviewctl deliveries)")]
    private partial void LogSavePutOff(long shard, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Anomaly shard {Shard}: {Count} alerts were stored but could not be published on the alerts stream")]
    private partial void LogAlertsNotPublished(Exception ex, long shard, int count);

    /// <summary>
    /// Loads the saved model. One this build cannot read (a newer build's format after a rollback, or damaged bytes)
    /// would fail every activation and so stop the anomaly stage for the shard's partitions; it is logged as an error
    /// and the shard starts a new model instead, as after a profile change.
    /// </summary>
    private bool TryRestore(AnomalyState saved)
    {
        try
        {
            _forest = RandomCutForest.FromBytes(saved.Forest);
            _grader = AnomalyGrader.FromBytes(saved.Grader);
            return true;
        }
        catch (ArgumentException ex)
        {
            LogUnreadableModel(this.GetPrimaryKeyLong(), ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Anomaly shard {Shard}: the saved model cannot be read ({Reason}); starting a new model")]
    private partial void LogUnreadableModel(long shard, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly shard {Shard}: saved model was for profile '{Saved}', configured '{Configured}'; starting a new model")]
    private partial void LogProfileChanged(long shard, string saved, string configured);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly shard {Shard}: observation of review {ReviewId} ignored: {Reason}")]
    private partial void LogInvalidObservation(long shard, string reviewId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly shard {Shard}: observation with {Actual} features ignored; the model expects {Expected}")]
    private partial void LogWrongDimensions(long shard, int actual, int expected);
}
