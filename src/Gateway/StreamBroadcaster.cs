using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Gateway;

/// <summary>
/// One Orleans stream subscription shared by every gRPC watcher of that stream. Each watcher gets its own bounded
/// buffer: a slow watcher loses its own oldest items, never anyone else's, and never slows
/// the pipeline.
/// </summary>
public sealed partial class StreamBroadcaster<T>(
    IClusterClient cluster,
    string streamNamespace,
    IOptions<GatewayOptions> options,
    ILogger logger) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<Channel<T>> _watchers = [];
    private readonly SemaphoreSlim _subscribing = new(1, 1);
    private StreamSubscriptionHandle<T>? _subscription;
    private IAsyncStream<T>? _stream;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _checking;
    private long _delivered;
    private bool _disposed;

    /// <summary>Items delivered to the stream since the subscription began.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Registers a watcher; dispose the returned lease to stop watching.</summary>
    /// <exception cref="ObjectDisposedException">The gateway is shutting down.</exception>
    public async Task<WatchLease> WatchAsync()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        await EnsureSubscribedAsync();
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(options.Value.WatchBuffer)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_gate)
        {
            _watchers.Add(channel);
        }
        return new WatchLease(this, channel);
    }

    private async Task EnsureSubscribedAsync()
    {
        if (_subscription is not null)
        {
            return;
        }
        await _subscribing.WaitAsync();
        try
        {
            if (_subscription is null)
            {
                _stream = cluster.GetStreamProvider(StreamNames.Provider)
                    .GetStream<T>(StreamId.Create(streamNamespace, StreamNames.AllKey));
                _subscription = await _stream.SubscribeAsync(OnItemAsync);
                LogSubscribed(streamNamespace);
                _checking = CheckSubscriptionAsync(_stopping.Token);
            }
        }
        finally
        {
            _subscribing.Release();
        }
    }

    private Task OnItemAsync(T item, StreamSequenceToken? token)
    {
        Interlocked.Increment(ref _delivered);
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(item);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Subscribes again when the cluster no longer lists this gateway's subscription. In one of five runs of the watch
    /// test (both silos of a cluster killed and restarted within seconds of each other) the watch went silent for
    /// good while the windows kept closing. The likely cause: a pulling agent that cannot reach the client removes its
    /// subscription from the stream's PubSub (kept in PostgreSQL in the cluster profile), and nothing tells the
    /// subscriber. Checking the PubSub's list is cheap and repairs that, whatever removed it.
    /// </summary>
    private async Task CheckSubscriptionAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.WatchCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    var handles = await _stream!.GetAllSubscriptionHandles();
                    if (_subscription is { } current && handles.All(h => h.HandleId != current.HandleId))
                    {
                        _subscription = await _stream.SubscribeAsync(OnItemAsync);
                        LogResubscribed(streamNamespace);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The cluster may be unreachable for a while; the next round checks again.
                    LogCheckFailed(ex, streamNamespace);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private void Remove(Channel<T> channel)
    {
        lock (_gate)
        {
            _watchers.Remove(channel);
        }
        channel.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, true);
        await _stopping.CancelAsync();
        if (_checking is { } checking)
        {
            await checking;
        }
        // Open watch calls end now instead of waiting on a stream that will deliver nothing more.
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }
        }
        if (_subscription is { } subscription)
        {
            _subscription = null;
            try
            {
                await subscription.UnsubscribeAsync();
            }
            catch (Exception ex)
            {
                LogUnsubscribeFailed(ex, streamNamespace);
            }
        }
    }

    /// <summary>A watcher's view of the stream.</summary>
    public sealed class WatchLease(StreamBroadcaster<T> owner, Channel<T> channel) : IDisposable
    {
        public ChannelReader<T> Reader => channel.Reader;

        public void Dispose() => owner.Remove(channel);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway subscribed to the '{Stream}' stream")]
    private partial void LogSubscribed(string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cluster no longer listed the gateway's subscription to the '{Stream}' stream; subscribed again (items published meanwhile did not reach the watchers)")]
    private partial void LogResubscribed(string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the gateway's subscription to the '{Stream}' stream failed; will check again")]
    private partial void LogCheckFailed(Exception ex, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unsubscribing from the '{Stream}' stream failed")]
    private partial void LogUnsubscribeFailed(Exception ex, string stream);
}
