using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Gateway;

/// <summary>The gateway's shared subscriptions to the "metrics" and "alerts" streams.</summary>
public sealed class GatewayStreams(IClusterClient cluster, IOptions<GatewayOptions> options, ILoggerFactory loggers) : IAsyncDisposable
{
    public StreamBroadcaster<WindowSnapshot> Metrics { get; } =
        new(cluster, StreamNames.Metrics, options, loggers.CreateLogger<StreamBroadcaster<WindowSnapshot>>());

    public StreamBroadcaster<AnomalyAlertRecord> Alerts { get; } =
        new(cluster, StreamNames.Alerts, options, loggers.CreateLogger<StreamBroadcaster<AnomalyAlertRecord>>());

    public async ValueTask DisposeAsync()
    {
        await Metrics.DisposeAsync();
        await Alerts.DisposeAsync();
    }
}
