using Microsoft.Extensions.Options;
using System.Net;
using Orleans.Dashboard;
using ReviewOrleans.Gateway;

namespace ReviewOrleans.Silo;

/// <summary>
/// The silo process: localhost clustering, the review pipeline, the co-hosted gateway on its two ports, the
/// dashboard at /dashboard and, with --demo, the generated stream. Program and the benchmark both build it here.
/// </summary>
public static class SiloApp
{
    public static WebApplication Create(string[] args)
    {
        var demo = args.Contains("--demo");
        var builder = WebApplication.CreateBuilder(args.Where(a => a != "--demo").ToArray());
        var config = builder.Configuration;
        var endpoints = SiloEndpoints.From(config);

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort: config.GetValue("Cluster:SiloPort", 11111),
                gatewayPort: config.GetValue("Cluster:GatewayPort", 30000),
                serviceId: config.GetValue("Cluster:ServiceId", "revieworleans")!,
                clusterId: config.GetValue("Cluster:ClusterId", "revieworleans")!);
            silo.AddReviewPipeline(config);
            if (endpoints.Dashboard)
            {
                silo.AddDashboard();
            }
        });
        builder.Services.AddReviewGateway(config);
        builder.Services.AddSingleton(endpoints);
        builder.WebHost.ConfigureKestrel(k => k.ListenOnGatewayPorts(endpoints.Bind, endpoints.GrpcPort, endpoints.HttpPort));
        if (demo)
        {
            builder.Services.AddOptions<DemoOptions>().Bind(config.GetSection("Demo"))
                .Validate(o => o.ReviewsPerSecond is >= 10 and <= 1_000_000, "Demo:ReviewsPerSecond must be 10..1000000 (sent in tenths of a second)")
                .Validate(o => o.AnomalyEvery >= TimeSpan.FromSeconds(1), "Demo:AnomalyEvery must be at least 1 s")
                .ValidateOnStart();
            builder.Services.AddHostedService<DemoReviewStream>();
        }

        var app = builder.Build();
        app.MapReviewGateway();
        if (endpoints.Dashboard)
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard");
        }
        app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(endpoints.Describe(config, demo)));
        return app;
    }
}

/// <summary>Where the silo listens, from configuration.</summary>
public sealed record SiloEndpoints(IPAddress Bind, int GrpcPort, int HttpPort, bool Dashboard)
{
    private static IPAddress BindAddress(string value) =>
        value.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(value, out var address) ? address
        : throw new OptionsValidationException("Gateway:BindAddress", typeof(string),
            [$"Gateway:BindAddress '{value}' is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface) or localhost"]);

    public static SiloEndpoints From(IConfiguration config) => new(
        BindAddress(config.GetValue("Gateway:BindAddress", "127.0.0.1")!),
        config.GetValue("Gateway:GrpcPort", 5181),
        config.GetValue("Gateway:HttpPort", 5182),
        config.GetValue("Dashboard:Enabled", true));

    public string Describe(IConfiguration config, bool demo)
    {
        var host = Bind.Equals(IPAddress.Any) ? "localhost" : Bind.ToString();
        var storage = config.GetValue("Storage:Provider", "sqlite")!;
        var where = storage == "sqlite" ? Path.GetFullPath(config.GetValue("Storage:SqlitePath", "data/revieworleans.db")!) : "";
        return $"""

            ReviewOrleans silo is up{(demo ? " with the demo stream" : "")}.
              gRPC gateway (h2c):  http://{host}:{GrpcPort}    e.g. reviewctl --gateway http://{host}:{GrpcPort} categories
              dashboard:           {(Dashboard ? $"http://{host}:{HttpPort}/dashboard" : "disabled")}
              health:              http://{host}:{HttpPort}/healthz  (and grpc.health.v1 on the gRPC port)
              state:               {storage} {where}
            Press Ctrl+C to stop.
            """;
    }
}
