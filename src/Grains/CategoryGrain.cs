using ReviewOrleans.Contracts.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>Persisted state of a <see cref="CategoryGrain"/>.</summary>
[GenerateSerializer, Alias("category-state.v1")]
public sealed class CategoryState
{
    /// <summary>The open windows, watermark and late count, as <see cref="TumblingWindowAggregator.ToBytes"/> saves them.</summary>
    [Id(0)] public byte[]? Windows { get; set; }

    /// <summary>Closed windows, oldest first, at most <see cref="PipelineOptions.HistoryWindows"/>.</summary>
    [Id(1)] public List<WindowSnapshot> History { get; set; } = [];

    /// <summary>The log sequence applied through from each partition; saved with the windows it went into.</summary>
    [Id(3)] public DeliveryMarks Marks { get; set; } = new();
}

/// <summary>
/// One product category's timer-driven tumbling windows. Partition grains send pre-aggregates; a grain timer closes
/// due windows, appends them to the persisted history and publishes them on the "metrics" stream.
/// </summary>
[GrainType("category")]
public sealed partial class CategoryGrain(
    [PersistentState("category-windows", StorageNames.Default)] IPersistentState<CategoryState> state,
    IOptions<PipelineOptions> options,
    TimeProvider clock,
    ILogger<CategoryGrain> logger) : Grain, ICategoryGrain, IRemindable
{
    private const string CloseWindowsReminder = "close-windows";

    private readonly PipelineOptions _options = options.Value;
    private TumblingWindowAggregator _windows = null!;
    private IAsyncStream<WindowSnapshot> _metrics = null!;
    private bool _dirty;
    private bool _reminderRegistered;
    private List<WindowSnapshot> _unpublished = [];
    private IdleTracker _idle = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var windowOptions = new TumblingWindowOptions
        {
            Size = _options.WindowSize,
            Time = _options.WindowTime,
            AllowedLateness = _options.AllowedLateness,
            LatePolicy = _options.LatePolicy,
        };
        _windows = state.State.Windows is { } saved
            ? TumblingWindowAggregator.FromBytes(saved, windowOptions)
            : new TumblingWindowAggregator(windowOptions);
        state.State.Marks.Loaded();
        _idle = new IdleTracker(clock, _options.CategoryIdleTimeout);
        _metrics = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<WindowSnapshot>(StreamId.Create(StreamNames.Metrics, StreamNames.AllKey));
        this.RegisterGrainTimer(static (grain, _) => grain.Tick(), this,
            new GrainTimerCreationOptions(_options.WindowTick, _options.WindowTick) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await SaveAsync();
        }
    }

    public async Task<DeliveryReceipt> MergePartials(LogRange range, List<CategoryPartial> partials)
    {
        _idle.Touch();
        var marks = state.State.Marks;
        if (!marks.ShouldApply(range, out var answer))
        {
            return answer;
        }
        var deadLetters = new List<DeadLetterRecord>();
        foreach (var partial in partials)
        {
            WindowAdmission admission;
            try
            {
                admission = _windows.Merge(partial.WindowStartMs,
                    WindowAggregate.FromParts(partial.Count, partial.SumExpectedStars, partial.StarCounts), partial.MaxTimestampMs);
            }
            catch (ArgumentException ex)
            {
                // One malformed partial (a producer on another version, say) must not cost the others in this call.
                deadLetters.Add(new DeadLetterRecord
                {
                    TimeMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                    Field = "partial",
                    Rule = "invalid",
                    Message = $"window partial of category '{this.GetPrimaryKeyString()}' for {partial.WindowStartMs}: {ex.Message}",
                    Stage = "window",
                });
                continue;
            }
            if (_options.WindowTime == WindowTime.Processing && partial.MaxTimestampMs > 0)
            {
                // With processing time a partial's newest timestamp is its newest review's ingest time.
                ReviewTelemetry.IngestToWindow.Record(clock.GetUtcNow().ToUnixTimeMilliseconds() - partial.MaxTimestampMs);
            }
            if (admission.Outcome == WindowAdmissionOutcome.Late)
            {
                ReviewTelemetry.RecordRefused(_options.WindowTime == WindowTime.Event ? "event_time.late" : "ingest_time.late", "window", partial.Count);
                deadLetters.Add(new DeadLetterRecord
                {
                    TimeMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                    // The clock that made it late: the review's own time, or the gateway's ingest time.
                    Field = _options.WindowTime == WindowTime.Event ? "event_time" : "ingest_time",
                    Rule = "late",
                    Message = $"{partial.Count} review(s) of category '{this.GetPrimaryKeyString()}': {admission.Reason}",
                    Stage = "window",
                });
            }
        }
        marks.MarkApplied(range);
        _dirty = true;
        if (_options.WindowReminders && !_reminderRegistered && _windows.OpenWindowCount > 0)
        {
            // Before the call returns, so that a silo dying after it still leaves the windows a wake-up.
            await this.RegisterOrUpdateReminder(CloseWindowsReminder, _options.WindowReminderPeriod, _options.WindowReminderPeriod);
            _reminderRegistered = true;
        }
        if (deadLetters.Count == 0)
        {
            return marks.Receipt(range);
        }
        try
        {
            await GrainFactory.GetGrain<IDeadLetterGrain>(0).Add(deadLetters);
        }
        catch (Exception ex)
        {
            // The partials are merged: failing the call now would make the partition send them again and count
            // them twice. The dead letters are logged instead.
            LogDeadLettersLost(ex, this.GetPrimaryKeyString(), deadLetters.Count, string.Join("; ", deadLetters.Select(d => d.Message)));
        }
        return marks.Receipt(range);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Category {Category}: {Count} dead letters could not be stored: {Messages}")]
    private partial void LogDeadLettersLost(Exception ex, string category, int count, string messages);

    public async Task<int> Tick()
    {
        var closed = _windows.Advance(clock.GetUtcNow().ToUnixTimeMilliseconds());
        if (closed.Count == 0 && _unpublished.Count == 0)
        {
            // Open windows are saved with each closing window and on deactivation, not on every tick: a crash loses
            // at most the current window's pre-aggregates, and the store sees one write per window, not four a second.
            if (_windows.OpenWindowCount == 0 && _idle.IsIdle)
            {
                // Nothing left to close and nothing heard for a while: deactivation saves what is unsaved.
                this.DeactivateOnIdle();
            }
            return 0;
        }
        var category = this.GetPrimaryKeyString();
        foreach (var window in closed)
        {
            var snapshot = new WindowSnapshot
            {
                Category = category,
                StartMs = window.StartMs,
                EndMs = window.EndMs,
                Count = window.Count,
                SumExpectedStars = window.Sum,
                StarCounts = [.. window.Aggregate.StarCounts],
                IsUpdate = window.Emission == WindowEmission.Update,
            };
            _unpublished.Add(snapshot);
            AppendToHistory(snapshot);
        }
        if (closed.Count > 0 || _dirty)
        {
            // Closed windows are published only once they are stored: a failed write leaves them waiting here, and
            // the next tick writes and publishes them, so no window is published that a restart would not have.
            _dirty = true;
            await SaveAsync();
        }
        var published = _unpublished;
        await _metrics.OnNextBatchAsync(published);
        _unpublished = [];
        return published.Count;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != CloseWindowsReminder)
        {
            return;
        }
        await Tick();
        if (_windows.OpenWindowCount == 0 && _unpublished.Count == 0)
        {
            // Nothing left to close: an idle category stops waking up until its next review registers it again.
            if (await this.GetReminder(CloseWindowsReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
            _reminderRegistered = false;
        }
    }

    public Task<CategoryHistory> GetHistory(int lastWindows)
    {
        _idle.Touch();
        var history = state.State.History;
        var take = Math.Clamp(lastWindows, 0, history.Count);
        return Task.FromResult(new CategoryHistory
        {
            Category = this.GetPrimaryKeyString(),
            Windows = history.GetRange(history.Count - take, take),
            LateReviews = _windows.LateCount,
        });
    }

    private void AppendToHistory(WindowSnapshot snapshot)
    {
        var history = state.State.History;
        var existing = history.FindLastIndex(w => w.StartMs == snapshot.StartMs);
        if (existing >= 0)
        {
            history[existing] = snapshot;
            return;
        }
        var at = history.Count;
        while (at > 0 && history[at - 1].StartMs > snapshot.StartMs)
        {
            at--;
        }
        history.Insert(at, snapshot);
        history.KeepNewest(_options.HistoryWindows);
    }

    private async Task SaveAsync()
    {
        state.State.Windows = _windows.ToBytes();
        await state.State.Marks.SaveAsync(state.WriteStateAsync);
        _dirty = false;
    }
}
