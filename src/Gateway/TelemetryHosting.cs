using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ReviewOrleans.Contracts.Telemetry;

namespace ReviewOrleans.Gateway;

/// <summary>
/// OpenTelemetry for silos and standalone gateways: the platform's meter (<see cref="ReviewTelemetry"/>), Orleans'
/// own, ASP.NET Core's and the runtime's, scraped by Prometheus at <c>/metrics</c> on the HTTP port (behind the API key
/// like the dashboard) and, when <c>Telemetry:OtlpEndpoint</c> is set, exported over OTLP with the traces.
/// </summary>
public static class TelemetryHosting
{
    /// <summary>Orleans' meter and its activity sources (the latter once grain-call activity propagation is on).</summary>
    private const string OrleansMeter = "Microsoft.Orleans";
    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    public static IServiceCollection AddReviewTelemetry(this IServiceCollection services, IConfiguration config, string serviceName)
    {
        var otlp = OtlpEndpoint(config);
        var protocol = OtlpProtocol(config);
        var prometheus = config.GetValue("Telemetry:Prometheus", true);
        if (!prometheus && otlp is null)
        {
            return services;
        }
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: typeof(TelemetryHosting).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ReviewTelemetry.Name, OrleansMeter)
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation();
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(o => ConfigureOtlp(o, otlp, protocol));
                }
            });
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(ReviewTelemetry.Name)
                .AddSource(OrleansSources)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(o => ConfigureOtlp(o, otlp, protocol)));
        }
        return services;
    }

    /// <summary>Whether traces are exported (an OTLP endpoint is set): then grain calls carry the trace context too.</summary>
    public static bool Traces(IConfiguration config) => OtlpEndpoint(config) is not null;

    /// <summary>Maps GET /metrics (Prometheus' text format) unless <c>Telemetry:Prometheus=false</c>.</summary>
    public static WebApplication MapReviewTelemetry(this WebApplication app, IConfiguration config)
    {
        if (config.GetValue("Telemetry:Prometheus", true))
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }
        return app;
    }

    private static Uri? OtlpEndpoint(IConfiguration config) =>
        config.GetValue<string>("Telemetry:OtlpEndpoint") is not { Length: > 0 } value ? null
        : Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
        : throw new Microsoft.Extensions.Options.OptionsValidationException("Telemetry:OtlpEndpoint", typeof(string),
            [$"Telemetry:OtlpEndpoint '{value}' is not an http:// or https:// URL (e.g. http://otel-collector:4317)"]);

    private static OtlpExportProtocol OtlpProtocol(IConfiguration config) =>
        config.GetValue("Telemetry:OtlpProtocol", "grpc")!.ToLowerInvariant() switch
        {
            "grpc" => OtlpExportProtocol.Grpc,
            "http" or "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new Microsoft.Extensions.Options.OptionsValidationException("Telemetry:OtlpProtocol", typeof(string),
                [$"Telemetry:OtlpProtocol '{other}' is not one of: grpc, http/protobuf"]),
        };

    private static void ConfigureOtlp(OtlpExporterOptions options, Uri endpoint, OtlpExportProtocol protocol)
    {
        options.Endpoint = endpoint;
        options.Protocol = protocol;
    }
}
