using Microsoft.Extensions.Logging;

namespace ReviewOrleans.Delivery;

/// <summary>
/// One destination's buffer and its writer loop: records go out in the order they came, in batches of
/// <see cref="DeliveryOptions.BatchBytes"/> or after <see cref="DeliveryOptions.BatchAge"/>, or at once when a flush
/// is asked for. A failed write is retried with exponential backoff; a batch still not taken
/// <see cref="DeliveryOptions.DeadLetterAfter"/> after it was buffered goes to the errors store, and a batch the
/// destination refuses for its content is split until the records at fault are found. Either way every record is
/// accounted for, and only then counted as handled.
/// </summary>
internal sealed partial class DeliveryChannel
{
    private sealed record Chunk(IReadOnlyList<ScoredReview> Records, long Bytes, long BufferedAtMs, long Ticket);

    private readonly IScoredReviewDestination _destination;
    private readonly DeliveryOptions _options;
    private readonly DeliveryErrorStore _errors;
    private readonly IDeliveryDeadLetters _deadLetters;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Queue<Chunk> _pending = new();
    private readonly object _gate = new();
    private readonly KeyValuePair<string, object?> _tag;
    private TaskCompletionSource _wake = NewSignal();
    private TaskCompletionSource _handledSignal = NewSignal();
    private long _bufferedBytes;      // pending and in flight, until handled
    private long _bufferedRecords;
    private long _handledThrough;     // the ticket of the last record handled
    private long _flushThrough;       // a flush asked for everything through this ticket
    private long _oldestBufferedAtMs = long.MaxValue;
    private long _delivered, _deadLettered, _failures, _retries, _lastLagMs, _lastDeliveredAtMs, _lastErrorAtMs;
    private string _lastError = "";

    public DeliveryChannel(IScoredReviewDestination destination, DeliveryOptions options, DeliveryErrorStore errors,
        IDeliveryDeadLetters deadLetters, TimeProvider clock, ILogger logger)
    {
        _destination = destination;
        _options = options;
        _errors = errors;
        _deadLetters = deadLetters;
        _clock = clock;
        _logger = logger;
        _tag = DeliveryTelemetry.Destination(destination.Name);
    }

    public string Name => _destination.Name;

    public long HandledThrough => Interlocked.Read(ref _handledThrough);

    public bool IsFull
    {
        get
        {
            lock (_gate)
            {
                return _bufferedBytes >= _options.MaxBufferBytes;
            }
        }
    }

    /// <summary>Completes when the next batch was handled (space freed, a ticket passed).</summary>
    public Task WhenHandled
    {
        get
        {
            lock (_gate)
            {
                return _handledSignal.Task;
            }
        }
    }

    public void Enqueue(IReadOnlyList<ScoredReview> records, long bytes, long ticket)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            _pending.Enqueue(new Chunk(records, bytes, now, ticket));
            _bufferedBytes += bytes;
            _bufferedRecords += records.Count;
            _oldestBufferedAtMs = Math.Min(_oldestBufferedAtMs, now);
            if (_bufferedBytes - bytes < _options.BatchBytes && _bufferedBytes >= _options.BatchBytes)
            {
                _wake.TrySetResult();
            }
        }
    }

    /// <summary>Asks the loop to write everything through <paramref name="ticket"/> now, whatever the batch size.</summary>
    public void RequestFlush(long ticket)
    {
        lock (_gate)
        {
            if (ticket > _flushThrough)
            {
                _flushThrough = ticket;
                _wake.TrySetResult();
            }
        }
    }

    public DeliveryStatus Status()
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            return new DeliveryStatus(Name, _delivered, _deadLettered, _failures, _retries, _bufferedRecords, _bufferedBytes,
                _bufferedRecords == 0 ? 0 : Math.Max(0, now - _oldestBufferedAtMs), _lastLagMs, _lastDeliveredAtMs, _lastError, _lastErrorAtMs);
        }
    }

    /// <summary>The writer loop, until <paramref name="stopping"/>; then what is buffered is tried once more.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (true)
        {
            var batch = await NextBatchAsync(stopping);
            if (batch is null)
            {
                break;
            }
            await HandleAsync(batch, stopping);
        }
        // Stopping: one last attempt for what is buffered; what stays is re-sent after the restart (its anomaly
        // shard saved no state past it), so nothing is dropped here.
        List<Chunk>? rest;
        lock (_gate)
        {
            rest = _pending.Count > 0 ? [.. _pending] : null;
            _pending.Clear();
        }
        if (rest is not null)
        {
            try
            {
                await _destination.DeliverAsync([.. rest.SelectMany(c => c.Records)], CancellationToken.None);
                Handled(rest, delivered: true);
            }
            catch (Exception ex)
            {
                LogLeftAtStop(ex, Name, rest.Sum(c => c.Records.Count));
            }
        }
    }

    /// <summary>Waits until a batch is due, then takes it (null once stopping).</summary>
    private async Task<List<Chunk>?> NextBatchAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Task wake;
            TimeSpan wait;
            lock (_gate)
            {
                var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
                var due = _pending.Count > 0 && (
                    _bufferedBytes >= _options.BatchBytes
                    || now - _pending.Peek().BufferedAtMs >= _options.BatchAge.TotalMilliseconds
                    || _flushThrough >= _pending.Peek().Ticket);
                if (due)
                {
                    return TakeBatch();
                }
                if (_wake.Task.IsCompleted)
                {
                    _wake = NewSignal();
                }
                wake = _wake.Task;
                // Wakes for the oldest record's age, and at least every second for the destination's Tick.
                var untilAged = _pending.Count > 0
                    ? TimeSpan.FromMilliseconds(_pending.Peek().BufferedAtMs + _options.BatchAge.TotalMilliseconds - now)
                    : TimeSpan.MaxValue;
                wait = untilAged < TimeSpan.FromSeconds(1) ? untilAged : TimeSpan.FromSeconds(1);
            }
            _destination.Tick();
            try
            {
                await wake.WaitAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, _clock, stopping);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException)
            {
            }
        }
        return null;
    }

    /// <summary>Chunks up to about 8 batches' worth (one write), oldest first.</summary>
    private List<Chunk> TakeBatch()
    {
        var taken = new List<Chunk>();
        long bytes = 0;
        while (_pending.Count > 0 && (taken.Count == 0 || bytes + _pending.Peek().Bytes <= 8L * _options.BatchBytes))
        {
            var chunk = _pending.Dequeue();
            taken.Add(chunk);
            bytes += chunk.Bytes;
        }
        return taken;
    }

    private async Task HandleAsync(List<Chunk> batch, CancellationToken stopping)
    {
        var records = batch.Count == 1 ? batch[0].Records : [.. batch.SelectMany(c => c.Records)];
        var bufferedAtMs = batch[0].BufferedAtMs;
        var outcome = await DeliverAsync(records, bufferedAtMs, stopping);
        if (outcome is null)
        {
            // Stopping while retrying: back to the front of the queue for the last attempt.
            lock (_gate)
            {
                var rest = _pending.ToList();
                _pending.Clear();
                foreach (var chunk in batch.Concat(rest))
                {
                    _pending.Enqueue(chunk);
                }
            }
            return;
        }
        Handled(batch, outcome.Value);
    }

    /// <summary>
    /// Writes with retries. True: delivered. False: some or all went to the errors store (dead letters).
    /// Null: stopping before it could be written.
    /// </summary>
    private async Task<bool?> DeliverAsync(IReadOnlyList<ScoredReview> records, long bufferedAtMs, CancellationToken stopping)
    {
        var delay = _options.RetryInitialDelay;
        while (true)
        {
            try
            {
                await _destination.DeliverAsync(records, stopping);
                return true;
            }
            catch (ScoredReviewRefusedException ex)
            {
                Failed(ex);
                return await IsolateAsync(records, bufferedAtMs, ex, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception ex)
            {
                Failed(ex);
                var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
                if (now - bufferedAtMs >= _options.DeadLetterAfter.TotalMilliseconds)
                {
                    await DeadLetterAsync(records, $"{Name}.undeliverable",
                        $"not taken by {Name} within Delivery:DeadLetterAfter ({_options.DeadLetterAfter}): {ex.Message}");
                    return false;
                }
                LogRetrying(ex, Name, records.Count, delay.TotalMilliseconds);
                Interlocked.Increment(ref _retries);
                try
                {
                    await Task.Delay(delay, _clock, stopping);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
                delay = Doubled(delay);
            }
        }
    }

    /// <summary>A batch refused for its content: halves are tried on their own until each record at fault is alone.</summary>
    private async Task<bool?> IsolateAsync(IReadOnlyList<ScoredReview> records, long bufferedAtMs, ScoredReviewRefusedException refusal,
        CancellationToken stopping)
    {
        if (records.Count == 1)
        {
            await DeadLetterAsync(records, $"{Name}.refused", $"{Name} refused the record: {refusal.Message}");
            return false;
        }
        var half = records.Count / 2;
        var first = await DeliverAsync(records.Take(half).ToList(), bufferedAtMs, stopping);
        if (first is null)
        {
            return null; // the first half may be in: its records go again after the restart, which destinations allow
        }
        var second = await DeliverAsync(records.Skip(half).ToList(), bufferedAtMs, stopping);
        return second is null ? null : false;
    }

    /// <summary>To the errors store (retried until it works: the records must go somewhere), then reported.</summary>
    private async Task DeadLetterAsync(IReadOnlyList<ScoredReview> records, string rule, string reason)
    {
        var delay = _options.RetryInitialDelay;
        string file;
        while (true)
        {
            try
            {
                file = await _errors.WriteAsync(Name, records, reason, CancellationToken.None);
                break;
            }
            catch (Exception ex)
            {
                LogErrorsStoreFailed(ex, Name, records.Count);
                await Task.Delay(delay, _clock, CancellationToken.None);
                delay = Doubled(delay);
            }
        }
        LogDeadLettered(Name, records.Count, file, reason);
        Interlocked.Add(ref _deadLettered, records.Count);
        DeliveryTelemetry.Records.Add(records.Count, _tag, new("outcome", "dead_lettered"));
        try
        {
            await _deadLetters.ReportAsync(Name, rule, records, reason, file);
        }
        catch (Exception ex)
        {
            // The records are in the errors store, which the log line names; only the report is missing.
            LogReportFailed(ex, Name, file);
        }
    }

    private void Failed(Exception ex)
    {
        lock (_gate)
        {
            _failures++;
            _lastError = ex.Message;
            _lastErrorAtMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        }
        DeliveryTelemetry.Failures.Add(1, _tag);
    }

    private void Handled(List<Chunk> batch, bool delivered)
    {
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var count = batch.Sum(c => c.Records.Count);
        long lag = 0;
        if (delivered)
        {
            foreach (var chunk in batch)
            {
                foreach (var record in chunk.Records)
                {
                    var recordLag = now - record.IngestedAtMs;
                    DeliveryTelemetry.Lag.Record(recordLag, _tag);
                    lag = Math.Max(lag, recordLag);
                }
            }
            DeliveryTelemetry.Records.Add(count, _tag, new("outcome", "delivered"));
        }
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (delivered)
            {
                _delivered += count;
                _lastLagMs = lag;
                _lastDeliveredAtMs = now;
            }
            _bufferedBytes -= batch.Sum(c => c.Bytes);
            _bufferedRecords -= count;
            _oldestBufferedAtMs = _pending.Count > 0 ? _pending.Peek().BufferedAtMs : long.MaxValue;
            Interlocked.Exchange(ref _handledThrough, batch[^1].Ticket);
            signal = _handledSignal;
            _handledSignal = NewSignal();
        }
        signal.TrySetResult();
    }

    /// <summary>The next wait of an exponential backoff, at most <see cref="DeliveryOptions.RetryMaxDelay"/>.</summary>
    private TimeSpan Doubled(TimeSpan delay) => delay * 2 < _options.RetryMaxDelay ? delay * 2 : _options.RetryMaxDelay;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to {Destination}: writing {Count} scored reviews failed; retrying in {DelayMs} ms")]
    private partial void LogRetrying(Exception ex, string destination, int count, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery to {Destination}: {Count} scored reviews went to the errors store {File}: {Reason}")]
    private partial void LogDeadLettered(string destination, int count, string file, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery to {Destination}: writing {Count} scored reviews to the errors store failed; retrying")]
    private partial void LogErrorsStoreFailed(Exception ex, string destination, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to {Destination}: the dead-letter report for {File} failed")]
    private partial void LogReportFailed(Exception ex, string destination, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to {Destination}: {Count} scored reviews were not written before the silo stopped; they are scored and sent again after the restart")]
    private partial void LogLeftAtStop(Exception ex, string destination, int count);
}
