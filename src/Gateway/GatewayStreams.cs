using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Gateway;

/// <summary>The gateway's shared subscriptions to the "metrics", "alerts" and "alert-events" streams.</summary>
public sealed class GatewayStreams(IClusterClient cluster, IOptions<GatewayOptions> options, ILoggerFactory loggers) : IAsyncDisposable
{
    public StreamBroadcaster<WindowSnapshot> Metrics { get; } =
        new(cluster, StreamNames.Metrics, options, loggers.CreateLogger<StreamBroadcaster<WindowSnapshot>>());

    /// <summary>The forests' detections.</summary>
    public StreamBroadcaster<AnomalyAlertRecord> Alerts { get; } =
        new(cluster, StreamNames.Alerts, options, loggers.CreateLogger<StreamBroadcaster<AnomalyAlertRecord>>());

    /// <summary>The alert rules' alerts firing and resolving.</summary>
    public StreamBroadcaster<AlertRecord> AlertEvents { get; } =
        new(cluster, StreamNames.AlertEvents, options, loggers.CreateLogger<StreamBroadcaster<AlertRecord>>());

    /// <summary>
    /// Rule alerts and detections as one sequence of <see cref="AlertNotice"/>; the subscriptions are in place when
    /// the task completes, so that what is published from then on is seen.
    /// </summary>
    public async Task<IAsyncEnumerable<AlertNotice>> WatchNoticesAsync(CancellationToken cancellationToken)
    {
        var detections = await Alerts.WatchAsync();
        var events = await AlertEvents.WatchAsync();
        return Merge([
            detections.Reader.ReadAllAsync(cancellationToken).Select(d => new AlertNotice { Detection = ApiMapping.ToApi(d) }),
            events.Reader.ReadAllAsync(cancellationToken).Select(a => new AlertNotice { Alert = ApiMapping.ToApi(a) }),
        ], [detections, events], cancellationToken);
    }

    /// <summary>Items of several sequences in the order they arrive; the leases end with the merged sequence.</summary>
    public static async IAsyncEnumerable<T> Merge<T>(IReadOnlyList<IAsyncEnumerable<T>> sources, IReadOnlyList<IDisposable> leases,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            var merged = Channel.CreateBounded<T>(new BoundedChannelOptions(1024) { SingleReader = true });
            var pumps = Task.WhenAll(sources.Select(async source =>
            {
                await foreach (var item in source.WithCancellation(cancellationToken))
                {
                    await merged.Writer.WriteAsync(item, cancellationToken);
                }
            }));
            _ = pumps.ContinueWith(t => merged.Writer.TryComplete(t.IsCanceled ? null : t.Exception?.InnerException), TaskScheduler.Default);
            await foreach (var item in merged.Reader.ReadAllAsync(cancellationToken))
            {
                yield return item;
            }
        }
        finally
        {
            foreach (var lease in leases)
            {
                lease.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Metrics.DisposeAsync();
        await Alerts.DisposeAsync();
        await AlertEvents.DisposeAsync();
    }
}
