using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using System.Net;

namespace ReviewOrleans.Gateway;

/// <summary>
/// Registers and maps the gateway, the same way whether it runs inside a silo or as its own Orleans client process.
/// </summary>
public static class GatewayHosting
{
    /// <summary>Adds the gRPC service, reflection, health checks and the gateway's options.</summary>
    public static IServiceCollection AddReviewGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection("Gateway"))
            .Configure(o =>
            {
                o.Partitions = configuration.GetValue("Pipeline:Partitions", o.Partitions);
                o.AnomalyShards = configuration.GetValue("Pipeline:AnomalyShards", o.AnomalyShards);
                o.WindowSize = configuration.GetValue("Pipeline:WindowSize", o.WindowSize);
            })
            .Validate(o => o.Partitions >= 1, "Pipeline:Partitions must be at least 1")
            .Validate(o => o.AnomalyShards >= 1, "Pipeline:AnomalyShards must be at least 1")
            .Validate(o => o.MaxBatchRecords >= 1, "Gateway:MaxBatchRecords must be at least 1")
            .Validate(o => o.MaxRequestBytes is >= 64 * 1024 and <= 1024 * 1024 * 1024, "Gateway:MaxRequestBytes must be between 65536 (64 KiB, one largest review) and 1073741824 (1 GiB)")
            .Validate(o => o.WatchBuffer >= 1, "Gateway:WatchBuffer must be at least 1")
            .Validate(o => o.WatchCheckInterval > TimeSpan.Zero, "Gateway:WatchCheckInterval must be positive")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ReviewIngestor>();
        services.AddSingleton<GatewayStreams>();
        services.AddSingleton(_ => ScoredReviewStore.From(configuration));
        // JSON transcoding serves the query methods' google.api.http routes (/v1/...) too: the business dashboard
        // reads them, and so can any client without a gRPC stack.
        services.AddGrpc(o => o.EnableDetailedErrors = false).AddJsonTranscoding();
        // GatewayRequestFrames checks each message first, with the sizes named; gRPC's own check is the same limit.
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>()
            .Configure<IOptions<GatewayOptions>>((grpc, gateway) => grpc.MaxReceiveMessageSize = gateway.Value.MaxRequestBytes);
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<ClusterHealthCheck>("orleans");
        return services;
    }

    /// <summary>
    /// Kestrel cannot serve cleartext HTTP/2 and HTTP/1 on one port, so gRPC (h2c) and HTTP (health, dashboard)
    /// listen on separate ports.
    /// </summary>
    public static void ListenOnGatewayPorts(this KestrelServerOptions kestrel, IPAddress address, int grpcPort, int httpPort)
    {
        // Read by AddApiKeys, which every host of the gateway calls first.
        var tls = kestrel.ApplicationServices.GetRequiredService<GatewayProtection>().Tls;
        // A unary call's body is one message and its 5-byte frame header; Kestrel's own default (30 MB) would
        // otherwise refuse a body the gateway's limit allows, or allow one it does not, with no reason given.
        var maxRequestBytes = kestrel.ApplicationServices.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxRequestBytes;
        kestrel.Limits.MaxRequestBodySize = maxRequestBytes + GatewayRequestFrames.FrameHeaderBytes;
        kestrel.Listen(address, grpcPort, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            tls?.Apply(listen);
        });
        kestrel.Listen(address, httpPort, listen =>
        {
            // With TLS, ALPN lets one port speak both; without, HTTP/1 only (browsers, curl, probes).
            listen.Protocols = tls is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
            tls?.Apply(listen, probes: true);
        });
    }

    /// <summary>
    /// Maps the gRPC service, gRPC health and reflection, and GET /healthz, behind the check of each call's size.
    /// Call after <see cref="ApiKeyAuthentication.UseApiKeys"/>, so that no unauthenticated body is looked at.
    /// </summary>
    public static WebApplication MapReviewGateway(this WebApplication endpoints)
    {
        endpoints.UseMiddleware<GatewayRequestFrames>();
        endpoints.MapGrpcService<ReviewGatewayService>();
        endpoints.MapGrpcHealthChecksService();
        endpoints.MapGrpcReflectionService();
        endpoints.MapBusinessDashboard();
        endpoints.MapGet("/healthz", async (HealthCheckService health, CancellationToken cancellationToken) =>
        {
            var report = await health.CheckHealthAsync(cancellationToken);
            return report.Status == HealthStatus.Healthy
                ? Microsoft.AspNetCore.Http.Results.Text("ok")
                : Microsoft.AspNetCore.Http.Results.Text(
                    "unhealthy: " + string.Join("; ", report.Entries.Select(e => $"{e.Key}: {e.Value.Description}")), statusCode: 503);
        });
        return endpoints;
    }
}
