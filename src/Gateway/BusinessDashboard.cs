using System.Net.ServerSentEvents;
using System.Reflection;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Gateway;

/// <summary>
/// The live dashboard for line-of-business owners at / on the gateway's HTTP port: a page (embedded, with uPlot, so
/// it needs no internet) that reads the gateway's HTTP/JSON routes (/v1/..., the gRPC methods transcoded) and is
/// pushed closed windows and alerts as server-sent events on /events. Behind the same keys as the gateway: a login
/// page takes the key into an HttpOnly cookie, or the browser sends it as a header.
/// </summary>
public static class BusinessDashboard
{
    public const string EnabledSetting = "BusinessDashboard:Enabled";
    public const string KeyCookie = "revieworleans_key";

    /// <summary>Paths a browser reaches before it has a key: the login page and what it loads.</summary>
    public static bool IsOpen(PathString path) =>
        path.Equals("/login", StringComparison.Ordinal)
        || path.Equals("/assets/login.js", StringComparison.Ordinal)
        || path.Equals("/assets/app.css", StringComparison.Ordinal);

    /// <summary>What the page's script calls: the HTTP/JSON routes and the event stream.</summary>
    public static bool IsApi(HttpRequest request) =>
        request.Path.StartsWithSegments("/v1", StringComparison.Ordinal) || request.Path.Equals("/events", StringComparison.Ordinal)
        || request.Headers.XRequestedWith == "XMLHttpRequest";

    /// <summary>The page itself: a browser without a key is sent to the login page rather than refused.</summary>
    public static bool IsPage(PathString path) => path.Equals("/", StringComparison.Ordinal) || path.Equals("/index.html", StringComparison.Ordinal);

    /// <summary>How often /events sends a comment while nothing happens, so that proxies keep the connection open.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    };

    public static WebApplication MapBusinessDashboard(this WebApplication app)
    {
        if (!app.Configuration.GetValue(EnabledSetting, true))
        {
            return app;
        }
        app.MapGet("/", (HttpContext context) => Asset(context, "index.html"));
        app.MapGet("/index.html", (HttpContext context) => Asset(context, "index.html"));
        app.MapGet("/login", (HttpContext context) => Asset(context, "login.html"));
        app.MapGet("/assets/{file}", (HttpContext context, string file) => Asset(context, file));
        app.MapPost("/login", async (HttpContext context, GatewayProtection protection) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var key = form["key"].ToString();
            if (!protection.Keys.Accepts(key))
            {
                return Results.Redirect("login?failed=1");
            }
            context.Response.Cookies.Append(KeyCookie, key, new CookieOptions
            {
                HttpOnly = true,
                // Strict: no other site can make the browser send it, so the acknowledge POST needs no CSRF token.
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
            });
            return Results.Redirect("./");
        }).DisableAntiforgery();
        app.MapPost("/logout", (HttpContext context) =>
        {
            context.Response.Cookies.Delete(KeyCookie, new CookieOptions { Path = "/" });
            return Results.Redirect("login");
        });
        app.MapGet("/events", (HttpContext context, GatewayStreams streams, IOptions<GatewayOptions> options, TimeProvider clock) =>
            TypedResults.ServerSentEvents(EventsAsync(streams, options.Value, clock, context.RequestAborted)));
        return app;
    }

    private static IResult Asset(HttpContext context, string file)
    {
        var stream = typeof(BusinessDashboard).Assembly.GetManifestResourceStream("dashboard/" + file);
        if (stream is null || !ContentTypes.TryGetValue(Path.GetExtension(file), out var contentType))
        {
            stream?.Dispose();
            return Results.NotFound();
        }
        var headers = context.Response.Headers;
        // Scripts only from this origin: a review body shown on the page cannot run as script.
        headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-cache";
        return Results.Stream(stream, contentType);
    }

    /// <summary>
    /// A hello with the window length, then every closed window ("window") and every alert notice ("alert") as they
    /// are published, with a heartbeat comment while nothing happens. The subscriptions are in place before the hello.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> EventsAsync(GatewayStreams streams, GatewayOptions options, TimeProvider clock,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var windows = await streams.Metrics.WatchAsync();
        var notices = await streams.WatchNoticesAsync(cancellationToken);
        yield return new SseItem<string>(
            $"{{\"windowMs\":{(long)options.WindowSize.TotalMilliseconds},\"serverTimeMs\":{clock.GetUtcNow().ToUnixTimeMilliseconds()}}}", "hello");
        await foreach (var item in GatewayStreams.Merge<SseItem<string>>([
            windows.Reader.ReadAllAsync(cancellationToken).Select(w => new SseItem<string>(Json.Format(ApiMapping.ToApi(w)), "window")),
            notices.Select(n => new SseItem<string>(Json.Format(n), "alert")),
            HeartbeatsAsync(clock, cancellationToken),
        ], [windows], cancellationToken))
        {
            yield return item;
        }
    }

    private static async IAsyncEnumerable<SseItem<string>> HeartbeatsAsync(TimeProvider clock,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Heartbeat, clock);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            yield return new SseItem<string>("", "heartbeat");
        }
    }
}
