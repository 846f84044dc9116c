using System.Net;
using Orleans.Configuration;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Gateway;

// The gateway as its own process: an Orleans client of the cluster, serving the same gRPC service as the silo's
// co-hosted gateway.
var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;

builder.UseOrleansClient(client =>
{
    var gateways = config.GetSection("Cluster:Gateways").Get<string[]>() ?? [];
    if (gateways.Length == 0)
    {
        // The same setting the silo listens on, so one Cluster__GatewayPort serves both processes.
        client.UseLocalhostClustering(config.GetValue("Cluster:GatewayPort", 30000));
    }
    else
    {
        client.UseStaticClustering(gateways.Select(g => IPEndPoint.TryParse(g, out var endpoint) && endpoint.Port > 0 ? endpoint
            : throw new InvalidOperationException($"Cluster:Gateways has '{g}'; each entry must be ip:port of a silo's gateway, e.g. 10.0.0.5:30000")).ToArray());
    }
    client.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = config.GetValue("Cluster:ClusterId", "revieworleans")!;
        o.ServiceId = config.GetValue("Cluster:ServiceId", "revieworleans")!;
    });
    if (config.GetValue("Streams:Provider", "memory")!.Equals("eventhubs", StringComparison.OrdinalIgnoreCase))
    {
        client.AddEventHubStreams(StreamNames.Provider, (IClusterClientEventHubStreamConfigurator streams) =>
            streams.ConfigureEventHub(b => b.Configure(o => o.ConfigureEventHubConnection(
                config["Streams:EventHubs:ConnectionString"] ?? throw new InvalidOperationException("Streams:EventHubs:ConnectionString is required with the 'eventhubs' provider"),
                config["Streams:EventHubs:EventHubName"] ?? throw new InvalidOperationException("Streams:EventHubs:EventHubName is required with the 'eventhubs' provider"),
                config.GetValue("Streams:EventHubs:ConsumerGroup", "$Default")!))));
    }
    else
    {
        // The silos' queue count, or published batches land in queues that no silo pulls.
        client.AddMemoryStreams(StreamNames.Provider, streams =>
            streams.ConfigurePartitioning(config.GetValue(StreamNames.QueuesSetting, StreamNames.DefaultQueues)));
    }
});

builder.Services.AddReviewGateway(config);
var bind = IPAddress.Parse(config.GetValue("Gateway:BindAddress", "127.0.0.1")!);
builder.WebHost.ConfigureKestrel(k => k.ListenOnGatewayPorts(bind,
    config.GetValue("Gateway:GrpcPort", 5181), config.GetValue("Gateway:HttpPort", 5182)));

var app = builder.Build();
app.MapReviewGateway();
await app.RunAsync();

