using System.Net;
using Orleans.Dashboard;
using ReviewOrleans.Gateway;
using ReviewOrleans.Hosting;

namespace ReviewOrleans.Silo;

/// <summary>
/// The silo process: its profile (<see cref="ClusterProfile"/>), clustering, the review pipeline, the co-hosted
/// gateway on its two ports (unless Gateway:Enabled=false), the dashboard at /dashboard and, with --demo, the
/// generated stream. Program and the benchmark both build it here.
/// </summary>
public static class SiloApp
{
    public static WebApplication Create(string[] args)
    {
        var demo = args.Contains("--demo");
        var (profile, rest) = ClusterProfile.FromArgs(args.Where(a => a != "--demo").ToArray());
        var builder = WebApplication.CreateBuilder(rest);
        profile.ApplyTo(builder.Configuration);
        var config = builder.Configuration;
        var endpoints = SiloEndpoints.From(config);

        builder.UseOrleans(silo =>
        {
            silo.UseReviewClustering(config);
            silo.UseReviewTls(config);
            silo.AddReviewPipeline(config);
            if (ClusterMembership.Kind(config) == "adonet")
            {
                silo.Services.AddHostedService<PlacementRebalancer>();
            }
            if (endpoints.Dashboard)
            {
                silo.AddDashboard();
            }
            if (TelemetryHosting.Traces(config))
            {
                silo.AddActivityPropagation();
            }
        });
        builder.Services.AddReviewTelemetry(config, "revieworleans-silo");
        if (endpoints.Gateway)
        {
            builder.Services.AddReviewGateway(config);
        }
        else if (demo)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException("Gateway:Enabled", typeof(bool),
                ["--demo sends its reviews through the co-hosted gateway: it needs Gateway:Enabled=true"]);
        }
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddApiKeys(config, endpoints.Bind, endpoints.Gateway ? "the silo's gateway" : "the silo's dashboard and health port");
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (endpoints.Gateway)
            {
                k.ListenOnGatewayPorts(endpoints.Bind, endpoints.GrpcPort, endpoints.HttpPort);
            }
            else
            {
                var tls = k.ApplicationServices.GetRequiredService<GatewayProtection>().Tls;
                k.Listen(endpoints.Bind, endpoints.HttpPort, listen => tls?.Apply(listen, probes: true));
            }
        });
        if (demo)
        {
            builder.Services.AddOptions<DemoOptions>().Bind(config.GetSection("Demo"))
                .Validate(o => o.ReviewsPerSecond is >= 10 and <= 1_000_000, "Demo:ReviewsPerSecond must be 10..1000000 (sent in tenths of a second)")
                .Validate(o => o.AnomalyEvery >= TimeSpan.FromSeconds(1), "Demo:AnomalyEvery must be at least 1 s")
                .ValidateOnStart();
            builder.Services.AddHostedService<DemoReviewStream>();
        }

        var app = builder.Build();
        app.UseApiKeys();
        if (endpoints.Gateway)
        {
            app.MapReviewGateway();
        }
        else
        {
            // Hosted services, the silo among them, have started before Kestrel answers.
            app.MapGet("/healthz", () => "ok");
        }
        if (endpoints.Dashboard)
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard");
        }
        app.MapReviewTelemetry(config);
        var tls = app.Services.GetRequiredService<GatewayProtection>().Tls is not null;
        app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(endpoints.Describe(config, profile, demo, tls)));
        return app;
    }
}

/// <summary>Where the silo listens, from configuration.</summary>
public sealed record SiloEndpoints(IPAddress Bind, int GrpcPort, int HttpPort, bool Dashboard, bool Gateway)
{
    public static SiloEndpoints From(IConfiguration config) => new(
        BindAddress.From(config),
        config.GetValue("Gateway:GrpcPort", 5181),
        config.GetValue("Gateway:HttpPort", 5182),
        config.GetValue("Dashboard:Enabled", true),
        config.GetValue("Gateway:Enabled", true));

    public string Describe(IConfiguration config, ClusterProfile profile, bool demo, bool tls)
    {
        var host = Bind.Equals(IPAddress.Any) ? "localhost" : Bind.ToString();
        var scheme = tls ? "https" : "http";
        var storage = config.GetValue("Storage:Provider", "sqlite")!;
        var where = storage == "sqlite" ? Path.GetFullPath(config.GetValue("Storage:SqlitePath", "data/revieworleans.db")!) : "";
        var silo = ClusterMembership.Kind(config) == "adonet"
            ? $"{ClusterMembership.AdvertisedAddress(config)}:{ClusterMembership.SiloPort(config)}"
            : $"127.0.0.1:{ClusterMembership.SiloPort(config)}";
        return $"""

            ReviewOrleans silo is up{(demo ? " with the demo stream" : "")} (profile {profile.Name}).
              gRPC gateway ({(tls ? "TLS" : "h2c")}):  {(Gateway ? $"{scheme}://{host}:{GrpcPort}    e.g. reviewctl categories --gateway {scheme}://{host}:{GrpcPort}" : "disabled on this silo")}
              dashboard:           {(Dashboard ? $"{scheme}://{host}:{HttpPort}/dashboard" : "disabled")}
              health:              {scheme}://{host}:{HttpPort}/healthz{(Gateway ? "  (and grpc.health.v1 on the gRPC port)" : "")}
              metrics:             {(config.GetValue("Telemetry:Prometheus", true) ? $"{scheme}://{host}:{HttpPort}/metrics (Prometheus)" : "no Prometheus endpoint")}{(TelemetryHosting.Traces(config) ? $", OTLP to {config["Telemetry:OtlpEndpoint"]}" : "")}
              silo:                {silo}{(ClusterTls.Enabled(config) ? " (mutual TLS)" : "")}, membership {ClusterMembership.Kind(config)}, cluster {ClusterMembership.ClusterId(config)}, service {ClusterMembership.ServiceId(config)}
              state:               {storage} {where}
              streams:             {ReviewStreamProvider.Kind(config)}, {ReviewStreamProvider.Queues(config)} queues
            Press Ctrl+C to stop.
            """;
    }
}
