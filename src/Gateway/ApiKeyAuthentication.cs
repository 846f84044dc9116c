using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReviewOrleans.Gateway;

/// <summary>
/// API-key authentication of everything a process serves on its gateway ports: the gRPC service, reflection, the
/// Orleans dashboard and /metrics. Health endpoints stay open so that orchestrators can probe without a secret.
/// </summary>
public static class ApiKeyAuthentication
{
    public const string AllowAnonymousSetting = "Gateway:AllowAnonymous";

    /// <summary>
    /// Reads <see cref="ApiKeySet.Setting"/> and registers the set. A process bound beyond loopback with no key
    /// refuses to start unless <see cref="AllowAnonymousSetting"/> is true: anyone who can reach the port could
    /// otherwise write reviews and acknowledge customers.
    /// </summary>
    /// <exception cref="OptionsValidationException">Unprotected beyond loopback, or a malformed key; names the setting.</exception>
    public static IServiceCollection AddApiKeys(this IServiceCollection services, IConfiguration config, IPAddress bind, string serves)
    {
        var keys = ApiKeySet.From(config);
        var clientCertificates = GatewayTls.From(config)?.RequireClientCertificates == true;
        if (!keys.Required && !clientCertificates && !IPAddress.IsLoopback(bind) && !config.GetValue(AllowAnonymousSetting, false))
        {
            throw new OptionsValidationException(ApiKeySet.Setting, typeof(string[]),
                [$"{serves} is bound to {bind} (Gateway:BindAddress), beyond loopback, with no API key: set {ApiKeySet.Setting} " +
                 $"(e.g. the environment variable Gateway__ApiKeys__0=<a key of at least {ApiKeySet.MinimumKeyLength} characters>, or " +
                 $"sha256:<hex of its SHA-256> in a file), or require client certificates ({GatewayTls.Section}:ClientCertificates=require), " +
                 $"or set {AllowAnonymousSetting}=true to serve anyone who can reach the port"]);
        }
        return services.AddSingleton(keys).AddSingleton(new GatewayAccess(keys, clientCertificates));
    }

    /// <summary>What a request must present: one of the keys, or (with client certificates required) a verified certificate.</summary>
    private sealed record GatewayAccess(ApiKeySet Keys, bool ClientCertificates)
    {
        public bool Required => Keys.Required || ClientCertificates;
    }

    /// <summary>Refuses requests without an accepted key, before routing reaches gRPC or the dashboard.</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app)
    {
        var access = app.ApplicationServices.GetRequiredService<GatewayAccess>();
        var keys = access.Keys;
        if (!access.Required)
        {
            return app;
        }
        return app.Use(async (context, next) =>
        {
            if (IsOpen(context.Request.Path))
            {
                await next(context);
                return;
            }
            var presented = PresentedKey(context.Request);
            // A client certificate reaching here was verified in the handshake (GatewayTls).
            if ((presented is not null && keys.Accepts(presented)) || (access.ClientCertificates && context.Connection.ClientCertificate is not null))
            {
                await next(context);
                return;
            }
            await Refuse(context, presented is not null ? $"the API key is not one of the keys in {ApiKeySet.Setting}"
                : keys.Required ? "no API key: send the header 'authorization: Bearer <key>' (reviewctl: --api-key or REVIEWORLEANS_API_KEY)"
                : $"no client certificate: this gateway requires one that chains to {GatewayTls.Section}:TrustedCertificatePath");
        });
    }

    private static bool IsOpen(PathString path) =>
        path.Equals("/healthz", StringComparison.Ordinal) || path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal);

    /// <summary>
    /// The key from <c>authorization: Bearer KEY</c> (clients) or <c>Basic</c> with the key as password (browsers,
    /// which prompt for it when told so by the 401's WWW-Authenticate).
    /// </summary>
    private static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = credentials.IndexOf(':');
                return colon >= 0 ? credentials[(colon + 1)..] : credentials;
            }
            catch (FormatException)
            {
                return "";
            }
        }
        return null;
    }

    private static Task Refuse(HttpContext context, string message)
    {
        if (GrpcErrorResponse.IsGrpc(context.Request))
        {
            GrpcErrorResponse.Write(context, Grpc.Core.StatusCode.Unauthenticated, message);
            return Task.CompletedTask;
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        // Only Basic is announced, so that browsers prompt (Chromium gives up on a Bearer challenge beside it);
        // clients send Bearer all the same.
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"ReviewOrleans\", charset=\"UTF-8\"";
        return context.Response.WriteAsync(message + "\n");
    }
}
