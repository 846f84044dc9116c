using System.Net;
using Orleans.Dashboard;
using ReviewOrleans.Gateway;
using ReviewOrleans.Silo;

// A ReviewOrleans silo with the gateway and the dashboard co-hosted. `--demo` adds a built-in generated stream.
var demo = args.Contains("--demo");
var builder = WebApplication.CreateBuilder(args.Where(a => a != "--demo").ToArray());
var config = builder.Configuration;

var bind = IPAddress.Parse(config.GetValue("Gateway:BindAddress", "127.0.0.1")!);
var grpcPort = config.GetValue("Gateway:GrpcPort", 5181);
var httpPort = config.GetValue("Gateway:HttpPort", 5182);
var dashboard = config.GetValue("Dashboard:Enabled", true);

builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(
        siloPort: config.GetValue("Cluster:SiloPort", 11111),
        gatewayPort: config.GetValue("Cluster:GatewayPort", 30000),
        serviceId: config.GetValue("Cluster:ServiceId", "revieworleans")!,
        clusterId: config.GetValue("Cluster:ClusterId", "revieworleans")!);
    silo.AddReviewPipeline(config);
    if (dashboard)
    {
        silo.AddDashboard();
    }
});
builder.Services.AddReviewGateway(config);
builder.WebHost.ConfigureKestrel(k => k.ListenOnGatewayPorts(bind, grpcPort, httpPort));
if (demo)
{
    builder.Services.Configure<DemoOptions>(config.GetSection("Demo"));
    builder.Services.AddHostedService<DemoReviewStream>();
}

var app = builder.Build();
app.MapReviewGateway();
if (dashboard)
{
    app.MapOrleansDashboard(routePrefix: "/dashboard");
}

app.Lifetime.ApplicationStarted.Register(() =>
{
    var host = bind.Equals(IPAddress.Any) ? "localhost" : bind.ToString();
    Console.WriteLine($"""

        ReviewOrleans silo is up{(demo ? " with the demo stream" : "")}.
          gRPC gateway (h2c):  http://{host}:{grpcPort}    e.g. reviewctl --gateway http://{host}:{grpcPort} categories
          dashboard:           {(dashboard ? $"http://{host}:{httpPort}/dashboard" : "disabled")}
          health:              http://{host}:{httpPort}/healthz  (and grpc.health.v1 on the gRPC port)
          state:               {config.GetValue("Storage:Provider", "sqlite")} {(config.GetValue("Storage:Provider", "sqlite") == "sqlite" ? Path.GetFullPath(config.GetValue("Storage:SqlitePath", "data/revieworleans.db")!) : "")}
        Press Ctrl+C to stop.
        """);
});

await app.RunAsync();
