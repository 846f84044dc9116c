using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReviewOrleans.Gateway;

/// <summary>
/// What a request to the gateway's ports must present: one of the keys, or (with client certificates required) a
/// certificate verified in the handshake; and the TLS the ports serve, if any.
/// </summary>
public sealed record GatewayProtection(ApiKeySet Keys, GatewayTls? Tls)
{
    public bool ClientCertificates => Tls?.RequireClientCertificates == true;

    public bool Required => Keys.Required || ClientCertificates;
}

/// <summary>
/// API-key authentication of everything a process serves on its gateway ports: the gRPC service, reflection, the
/// Orleans dashboard and /metrics. Health endpoints stay open so that orchestrators can probe without a secret.
/// </summary>
public static class ApiKeyAuthentication
{
    public const string AllowAnonymousSetting = "Gateway:AllowAnonymous";

    /// <summary>
    /// Reads <see cref="ApiKeySet.Setting"/> and <see cref="GatewayTls.Section"/> (its certificate files read here, once,
    /// so that a bad one stops the process at start) and registers both as <see cref="GatewayProtection"/>. A process
    /// bound beyond loopback with neither a key nor required client certificates refuses to start unless
    /// <see cref="AllowAnonymousSetting"/> is true: anyone who can reach the port could otherwise write reviews and
    /// acknowledge customers.
    /// </summary>
    /// <exception cref="OptionsValidationException">Unprotected beyond loopback, a malformed key or unusable TLS files; names the setting.</exception>
    public static IServiceCollection AddApiKeys(this IServiceCollection services, IConfiguration config, IPAddress bind, string serves)
    {
        var protection = new GatewayProtection(ApiKeySet.From(config), GatewayTls.From(config));
        if (!protection.Required && !IPAddress.IsLoopback(bind) && !config.GetValue(AllowAnonymousSetting, false))
        {
            throw new OptionsValidationException(ApiKeySet.Setting, typeof(string[]),
                [$"{serves} is bound to {bind} (Gateway:BindAddress), beyond loopback, with no API key: set {ApiKeySet.Setting} " +
                 $"(e.g. the environment variable Gateway__ApiKeys__0=<a key of at least {ApiKeySet.MinimumKeyLength} characters>, or " +
                 $"sha256:<hex of its SHA-256> in a file), or require client certificates ({GatewayTls.Section}:ClientCertificates=require), " +
                 $"or set {AllowAnonymousSetting}=true to serve anyone who can reach the port"]);
        }
        return services.AddSingleton(protection.Keys).AddSingleton(protection);
    }

    /// <summary>Refuses requests without an accepted key, before routing reaches gRPC or the dashboard.</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app)
    {
        var access = app.ApplicationServices.GetRequiredService<GatewayProtection>();
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
            if (BusinessDashboard.IsPage(context.Request.Path) && HttpMethods.IsGet(context.Request.Method))
            {
                // A person opening the dashboard gets the login page, not a bare 401.
                context.Response.Redirect("login");
                return;
            }
            await Refuse(context, presented is not null ? $"the API key is not one of the keys in {ApiKeySet.Setting}"
                : keys.Required ? "no API key: send the header 'authorization: Bearer <key>' (reviewctl: --api-key or REVIEWORLEANS_API_KEY)"
                : $"no client certificate: this gateway requires one that chains to {GatewayTls.Section}:TrustedCertificatePath");
        });
    }

    private static bool IsOpen(PathString path) =>
        path.Equals("/healthz", StringComparison.Ordinal) || path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal)
        || BusinessDashboard.IsOpen(path);

    /// <summary>
    /// The key from <c>authorization: Bearer KEY</c> (clients) or <c>Basic</c> with the key as password (browsers,
    /// which prompt for it when told so by the 401's WWW-Authenticate), or the business dashboard's login cookie.
    /// </summary>
    private static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.Length == 0 && request.Cookies.TryGetValue(BusinessDashboard.KeyCookie, out var cookie))
        {
            return cookie;
        }
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
        if (BusinessDashboard.IsApi(context.Request))
        {
            // The business dashboard's script reads these; a challenge would make the browser prompt over its login page.
            return context.Response.WriteAsync(message + "\n");
        }
        // Only Basic is announced, so that browsers prompt (Chromium gives up on a Bearer challenge beside it);
        // clients send Bearer all the same.
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"ReviewOrleans\", charset=\"UTF-8\"";
        return context.Response.WriteAsync(message + "\n");
    }
}
