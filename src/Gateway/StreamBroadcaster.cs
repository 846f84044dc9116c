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
                var stream = cluster.GetStreamProvider(StreamNames.Provider)
                    .GetStream<T>(StreamId.Create(streamNamespace, StreamNames.AllKey));
                _subscription = await stream.SubscribeAsync((item, _) =>
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
                });
                LogSubscribed(streamNamespace);
            }
        }
        finally
        {
            _subscribing.Release();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unsubscribing from the '{Stream}' stream failed")]
    private partial void LogUnsubscribeFailed(Exception ex, string stream);
}
