using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using ReviewOrleans.Alerting;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Telemetry;

namespace ReviewOrleans.Grains;

/// <summary>Persisted state of the <see cref="AlertGrain"/>, as JSON of the alerting library's own state types.</summary>
[GenerateSerializer, Alias("alert-grain-state.v1")]
public sealed class AlertGrainState
{
    [Id(0)] public string Book { get; set; } = "";
}

/// <summary>What the alert grain keeps: rules and firing alerts, notifications, and recent alerts.</summary>
internal sealed class AlertBook
{
    public AlertEvaluatorState Evaluator { get; set; } = new();
    public WebhookOutbox Outbox { get; set; } = new();
    /// <summary>Newest last; firing and resolved.</summary>
    public List<Alert> Recent { get; set; } = [];
    /// <summary>Whether the rules were replaced through the gateway; until then Alerts:Rules apply.</summary>
    public bool RulesFromApi { get; set; }
}

/// <summary>
/// The cluster's alert rules: collects each closed window from the "metrics" stream and the anomaly shards' grades,
/// judges the window when it is due (<see cref="AlertingOptions.EvaluationDelay"/> after its end), and sends each alert
/// that fires or resolves to the log, the "alert-events" stream (WatchAlerts, the dashboard) and the webhooks. Firing
/// alerts, runs and undelivered notifications are saved before anyone is told, so that a restart neither forgets an
/// alert nor repeats one.
/// </summary>
[ImplicitStreamSubscription(StreamNames.Metrics)]
[GrainType("alerts")]
public sealed partial class AlertGrain(
    [PersistentState("alerts", StorageNames.Default)] IPersistentState<AlertGrainState> state,
    IOptions<AlertingOptions> alerting,
    IOptions<PipelineOptions> pipeline,
    WebhookSender sender,
    TimeProvider clock,
    ILogger<AlertGrain> logger) : Grain, IAlertGrain, IRemindable
{
    private const string WatchReminder = "watch-alerts";

    /// <summary>Windows judged when the grain catches up after being away; older ones are skipped.</summary>
    private const int MaxCatchUpWindows = 120;

    private static readonly JsonSerializerOptions Json = new() { IncludeFields = false };

    private readonly AlertingOptions _options = alerting.Value;
    private readonly PipelineOptions _pipeline = pipeline.Value;
    private readonly Dictionary<long, Dictionary<string, CategoryWindowCounts>> _pending = [];
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private AlertBook _book = null!;
    private AlertEvaluator _evaluator = null!;
    private IAsyncStream<AlertRecord> _events = null!;
    private bool _dirty;

    private long WindowMs => (long)_pipeline.WindowSize.TotalMilliseconds;

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _book = state.State.Book.Length > 0 ? JsonSerializer.Deserialize<AlertBook>(state.State.Book, Json)! : new AlertBook();
        _evaluator = new AlertEvaluator(_book.Evaluator, Now);
        _events = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<AlertRecord>(StreamId.Create(StreamNames.AlertEvents, StreamNames.AllKey));
        if (!_book.RulesFromApi)
        {
            // Configuration may have changed since the last run: alerts of rules no longer configured resolve.
            await HandleAsync(_evaluator.ReplaceRules(_options.Rules, Now));
            _dirty = true;
        }
        await this.GetStreamProvider(StreamNames.Provider)
            .GetStream<WindowSnapshot>(StreamId.Create(StreamNames.Metrics, StreamNames.AllKey))
            .SubscribeAsync(OnWindowsAsync);
        var tick = TimeSpan.FromMilliseconds(Math.Min(WindowMs, 1000));
        this.RegisterGrainTimer(static (grain, _) => grain.EvaluateAsync(), this,
            new GrainTimerCreationOptions(tick, tick) { KeepAlive = true });
        // Interleaved: a slow webhook must not hold up the windows arriving or the judging of them.
        this.RegisterGrainTimer(static (grain, cancel) => grain.DispatchAsync(cancel), this,
            new GrainTimerCreationOptions(_options.DispatchInterval, _options.DispatchInterval) { KeepAlive = true, Interleave = true });
        if (_pipeline.WindowReminders)
        {
            // Brings the grain back after its silo is lost, even while no review arrives to wake it (silence alerts).
            await this.RegisterOrUpdateReminder(WatchReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _dirty ? SaveAsync() : Task.CompletedTask;

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    public Task Watch() => Task.CompletedTask;

    private Task OnWindowsAsync(IList<SequentialItem<WindowSnapshot>> items)
    {
        var oldest = _evaluator.State.LastWindowStartMs;
        foreach (var item in items)
        {
            var window = item.Item;
            // Windows judged already, and those of event time far behind (a backfill), are not judged again.
            if (window.StartMs <= oldest || window.StartMs < Now - TimeSpan.FromHours(1).TotalMilliseconds)
            {
                continue;
            }
            if (!_pending.TryGetValue(window.StartMs, out var categories))
            {
                _pending[window.StartMs] = categories = new Dictionary<string, CategoryWindowCounts>(StringComparer.Ordinal);
            }
            // An update carries the window's new totals: it replaces the first snapshot.
            categories[window.Category] = new CategoryWindowCounts(window.Count, window.StarCounts[0] + window.StarCounts[1]);
        }
        return Task.CompletedTask;
    }

    public async Task Evaluate()
    {
        await EvaluateAsync();
        await DispatchAsync(CancellationToken.None);
    }

    private async Task EvaluateAsync()
    {
        var now = Now;
        var latestDue = TumblingWindowAggregator.WindowStartOf(now - (long)_options.EvaluationDelay.TotalMilliseconds - WindowMs, WindowMs);
        var last = _evaluator.State.LastWindowStartMs;
        var first = Math.Max(last == long.MinValue ? latestDue : last + WindowMs, latestDue - (MaxCatchUpWindows - 1) * WindowMs);
        var changes = new List<AlertChange>();
        if (first <= latestDue)
        {
            var grades = await GradesSinceAsync(first);
            for (var start = first; start <= latestDue; start += WindowMs)
            {
                _pending.Remove(start, out var categories);
                var facts = new WindowFacts(start, start + WindowMs, grades.TryGetValue(start, out var grade) ? grade : null,
                    categories ?? new Dictionary<string, CategoryWindowCounts>());
                changes.AddRange(_evaluator.ObserveWindow(facts, now));
            }
            foreach (var stale in _pending.Keys.Where(k => k <= latestDue).ToList())
            {
                _pending.Remove(stale);
            }
            _dirty = true;
        }
        else
        {
            changes.AddRange(_evaluator.CheckSilence(now));
        }
        await HandleAsync(changes);
        if (_dirty)
        {
            await SaveAsync();
        }
    }

    /// <summary>Per window start, the highest grade of any shard; only fetched while an anomaly_grade rule is in force.</summary>
    private async Task<Dictionary<long, double>> GradesSinceAsync(long sinceStartMs)
    {
        if (!_evaluator.State.Rules.Any(r => !r.Disabled && r.Kind == AlertKinds.AnomalyGrade))
        {
            return [];
        }
        var shards = await Task.WhenAll(Enumerable.Range(0, _pipeline.EffectiveAnomalyShards)
            .Select(s => GrainFactory.GetGrain<IAnomalyGrain>(s).GetGrades(sinceStartMs)));
        return shards.SelectMany(s => s).GroupBy(w => w.StartMs).ToDictionary(g => g.Key, g => g.Max(w => w.MaxGrade));
    }

    /// <summary>Tells everyone about alerts that fired or resolved: saved first, then logged, published and queued for webhooks.</summary>
    private async Task HandleAsync(List<AlertChange> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }
        var now = Now;
        foreach (var change in changes)
        {
            var alert = change.Alert;
            if (change.Event == AlertEvents.Fired && alert.Kind == AlertKinds.AnomalyGrade)
            {
                alert.Attribution = await AttributionSinceAsync(alert.WindowStartMs);
            }
            var at = _book.Recent.FindIndex(a => a.Id == alert.Id);
            if (at >= 0)
            {
                _book.Recent.RemoveAt(at);
            }
            _book.Recent.Add(alert.Clone());
            if (_book.Recent.Count > _options.RecentKept)
            {
                _book.Recent.RemoveRange(0, _book.Recent.Count - _options.RecentKept);
            }
            _book.Outbox.Enqueue(change, _options.Webhooks, now);
            if (change.Event == AlertEvents.Fired)
            {
                LogFired(alert.Rule, alert.Id, alert.Summary);
            }
            else
            {
                LogResolved(alert.Rule, alert.Id, alert.Summary, TimeSpan.FromMilliseconds(alert.ResolvedMs!.Value - alert.FiredMs));
            }
            ReviewTelemetry.RuleAlerts.Add(1, new KeyValuePair<string, object?>("rule", alert.Rule), new KeyValuePair<string, object?>("event", change.Event));
        }
        await SaveAsync();
        try
        {
            await _events.OnNextBatchAsync([.. changes.Select(c => ToRecord(c.Alert))]);
        }
        catch (Exception ex)
        {
            // Saved and queued for the webhooks already; watchers see it in ListAlerts.
            LogNotPublished(ex, changes.Count);
        }
    }

    /// <summary>The attribution of the highest-graded detection since the run began (the newest one if none since).</summary>
    private async Task<List<AlertAttribution>> AttributionSinceAsync(long sinceMs)
    {
        var statuses = await Task.WhenAll(Enumerable.Range(0, _pipeline.EffectiveAnomalyShards)
            .Select(s => GrainFactory.GetGrain<IAnomalyGrain>(s).GetStatus(20)));
        var detections = statuses.SelectMany(s => s.RecentAlerts).ToList();
        var best = detections.Where(d => d.TimeMs >= sinceMs).MaxBy(d => d.Grade) ?? detections.MaxBy(d => d.TimeMs);
        return best?.Attribution.Select(a => new AlertAttribution(a.Feature, a.Attribution, a.Strength, a.Direction)).ToList() ?? [];
    }

    /// <summary>Sends the notifications that are due; interleaves with the grain's other work while the webhooks answer.</summary>
    private async Task DispatchAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        var due = _book.Outbox.Due(now).Where(d => _inFlight.Add(d.Id)).ToList();
        if (due.Count == 0)
        {
            return;
        }
        var targets = _options.Webhooks.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var results = await Task.WhenAll(due.Select(async d =>
        {
            var target = targets.GetValueOrDefault(d.Target);
            var error = target is null ? $"webhook '{d.Target}' is no longer configured (Alerts:Webhooks)"
                : await sender.SendAsync(target, d, cancellationToken);
            return (Delivery: d, Target: target, Error: error);
        }));
        var deadLetters = new List<DeadLetterRecord>();
        foreach (var (delivery, target, error) in results)
        {
            _inFlight.Remove(delivery.Id);
            var deadLettered = _book.Outbox.Record(delivery, target, error, Now);
            if (error is null)
            {
                continue;
            }
            if (deadLettered)
            {
                LogDeadLettered(delivery.Id, delivery.Attempts, error);
                deadLetters.Add(new DeadLetterRecord
                {
                    Id = new Guid(XxHash128.Hash(Encoding.UTF8.GetBytes(delivery.Id))),
                    TimeMs = Now,
                    ReviewId = delivery.AlertId,
                    Field = "webhook",
                    Rule = "alert.webhook_failed",
                    Message = $"alert {delivery.AlertId} ({delivery.Event}) not delivered to webhook '{delivery.Target}' after {delivery.Attempts} attempts: {error}",
                    Stage = "alerts",
                    Raw = DeadLetterRecord.ClipRaw(delivery.Body),
                });
            }
            else
            {
                LogAttemptFailed(delivery.Id, delivery.Attempts, error, TimeSpan.FromMilliseconds(delivery.NextAttemptMs - Now));
            }
        }
        _dirty = true;
        if (deadLetters.Count > 0)
        {
            await GrainFactory.GetGrain<IDeadLetterGrain>(0).Add(deadLetters);
        }
    }

    public Task<AlertList> List(int limit)
    {
        var firing = _evaluator.State.Firing.Values.OrderByDescending(a => a.FiredMs).Select(ToRecord).ToList();
        var recent = Enumerable.Reverse(_book.Recent).Take(Math.Max(0, limit)).Select(ToRecord).ToList();
        return Task.FromResult(new AlertList(firing, recent));
    }

    public Task<List<AlertRuleRecord>> GetRules() =>
        Task.FromResult(_evaluator.State.Rules.Select(r => new AlertRuleRecord(r.Name, r.Kind, r.Threshold, r.Windows, r.Category, r.MinReviews, r.SilenceSeconds, r.Disabled)).ToList());

    public async Task<List<AlertRuleRecord>> PutRules(List<AlertRuleRecord> rules)
    {
        var changes = _evaluator.ReplaceRules([.. rules.Select(r => new AlertRule
        {
            Name = r.Name,
            Kind = r.Kind,
            Threshold = r.Threshold,
            Windows = r.Windows,
            Category = r.Category.Length == 0 ? AlertRule.EachCategory : r.Category,
            MinReviews = r.MinReviews,
            SilenceSeconds = r.SilenceSeconds,
            Disabled = r.Disabled,
        })], Now);
        _book.RulesFromApi = true;
        _dirty = true;
        await HandleAsync(changes);
        await SaveAsync();
        return await GetRules();
    }

    private AlertRecord ToRecord(Alert alert) => new()
    {
        Id = alert.Id,
        Rule = alert.Rule,
        Kind = alert.Kind,
        State = alert.State,
        Category = alert.Category,
        Summary = alert.Summary,
        Value = alert.Value,
        Threshold = alert.Threshold,
        FiredMs = alert.FiredMs,
        ResolvedMs = alert.ResolvedMs ?? 0,
        WindowStartMs = alert.WindowStartMs,
        Attribution = [.. alert.Attribution.Select(a => new FeatureAttributionRecord(a.Feature, a.Attribution, a.Strength, a.Direction))],
        Deliveries = [.. _book.Outbox.Of(alert.Id).Select(d => new AlertDeliveryRecord(d.Target, d.Event, d.State, d.Attempts, d.LastError, d.LastAttemptMs, d.NextAttemptMs))],
    };

    private async Task SaveAsync()
    {
        // Cleared before the write: notifications recorded while it is under way mark the book again.
        _dirty = false;
        state.State.Book = JsonSerializer.Serialize(_book, Json);
        await state.WriteStateAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Rule} fired ({AlertId}): {Summary}")]
    private partial void LogFired(string rule, string alertId, string summary);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {Rule} resolved ({AlertId}) after {Duration}: {Summary}")]
    private partial void LogResolved(string rule, string alertId, string summary, TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook notification {DeliveryId} failed (attempt {Attempts}): {Error}; next attempt in {Wait}")]
    private partial void LogAttemptFailed(string deliveryId, int attempts, string error, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook notification {DeliveryId} dead-lettered after {Attempts} attempts: {Error}")]
    private partial void LogDeadLettered(string deliveryId, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} alert events were saved but could not be published on the alert-events stream")]
    private partial void LogNotPublished(Exception ex, int count);
}
