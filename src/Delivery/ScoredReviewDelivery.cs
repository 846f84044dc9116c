using Microsoft.Extensions.Logging;

namespace ReviewOrleans.Delivery;

/// <summary>
/// A silo's delivery of scored reviews to the configured destinations, each with its own buffer and writer loop
/// (<see cref="DeliveryChannel"/>). Records are numbered as they are appended (the running count is the ticket), so
/// that a caller can wait until every destination has handled what it appended: the anomaly shards do so before
/// saving their state, which is what makes a crash lose nothing (the partitions re-send what the saved state does not
/// cover, and it is scored and delivered again; PostgreSQL keeps the first copy of a review).
/// </summary>
public sealed class ScoredReviewDelivery : IAsyncDisposable
{
    private readonly List<DeliveryChannel> _channels = [];
    private readonly List<IScoredReviewDestination> _destinations;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly object _gate = new();
    private long _appended;

    /// <summary>No destinations: appending does nothing and every flush is complete.</summary>
    public static ScoredReviewDelivery None { get; } = new();

    private ScoredReviewDelivery() => _destinations = [];

    public ScoredReviewDelivery(IReadOnlyList<IScoredReviewDestination> destinations, DeliveryOptions options, DeliveryErrorStore errors,
        IDeliveryDeadLetters deadLetters, TimeProvider clock, ILogger<ScoredReviewDelivery> logger)
    {
        _destinations = [.. destinations];
        foreach (var destination in destinations)
        {
            var channel = new DeliveryChannel(destination, options, errors, deadLetters, clock, logger);
            _channels.Add(channel);
            _loops.Add(Task.Run(() => channel.RunAsync(_stopping.Token)));
        }
    }

    public bool Enabled => _channels.Count > 0;

    /// <summary>The ticket of the last record appended.</summary>
    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>
    /// Buffers the records for every destination and returns their ticket; waits first while a destination's buffer
    /// is full (back-pressure), so that a slow destination slows the pipeline instead of exhausting memory.
    /// </summary>
    public async ValueTask<long> AppendAsync(IReadOnlyList<ScoredReview> records, CancellationToken cancellationToken = default)
    {
        if (_channels.Count == 0 || records.Count == 0)
        {
            return Appended;
        }
        foreach (var channel in _channels)
        {
            while (channel.IsFull)
            {
                try
                {
                    // Bounded: the buffer may have drained between the check and taking the signal.
                    await channel.WhenHandled.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                }
                catch (TimeoutException)
                {
                }
            }
        }
        long bytes = 0;
        foreach (var record in records)
        {
            bytes += record.EstimatedBytes;
        }
        lock (_gate)
        {
            _appended += records.Count;
            foreach (var channel in _channels)
            {
                channel.Enqueue(records, bytes, _appended);
            }
            return _appended;
        }
    }

    /// <summary>
    /// Writes everything through <paramref name="ticket"/> now and waits until each destination has handled it
    /// (delivered, or in the errors store). False when that took longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> FlushThroughAsync(long ticket, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        foreach (var channel in _channels)
        {
            channel.RequestFlush(ticket);
        }
        try
        {
            foreach (var channel in _channels)
            {
                while (channel.HandledThrough < ticket)
                {
                    var handled = channel.WhenHandled;
                    if (channel.HandledThrough >= ticket)
                    {
                        break;
                    }
                    await handled.WaitAsync(deadline.Token);
                }
            }
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public IReadOnlyList<DeliveryStatus> Status() => [.. _channels.Select(c => c.Status())];

    public async ValueTask DisposeAsync()
    {
        if (_channels.Count == 0)
        {
            return;
        }
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops);
        foreach (var destination in _destinations)
        {
            await destination.DisposeAsync();
        }
        _stopping.Dispose();
    }
}
