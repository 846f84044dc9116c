using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ReviewOrleans.Alerting;

/// <summary>A webhook alerts are POSTed to (Alerts:Webhooks:N:*).</summary>
public sealed class WebhookTarget
{
    public string Name { get; set; } = "";

    /// <summary>An absolute http or https URL.</summary>
    public string Url { get; set; } = "";

    /// <summary>The HMAC-SHA256 key of the signature header; receivers verify the body with it.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Attempts (N) before a notification is dead-lettered.</summary>
    public int MaxAttempts { get; set; } = 8;

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one attempt may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The rules whose alerts go here; empty: every rule.</summary>
    public List<string> Rules { get; set; } = [];

    public bool Wants(string rule) => Rules.Count == 0 || Rules.Contains(rule, StringComparer.Ordinal);

    /// <summary>What is wrong with these webhooks, naming each by index and setting (Alerts:Webhooks:N:Field).</summary>
    public static List<string> Check(IReadOnlyList<WebhookTarget> targets)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < targets.Count; i++)
        {
            var t = targets[i];
            void Fail(string field, string message) => errors.Add($"Alerts:Webhooks:{i}:{field} {message}");
            if (t.Name.Length == 0 || !names.Add(t.Name))
            {
                Fail("Name", "must be set and unique: deliveries are reported by it");
            }
            if (!Uri.TryCreate(t.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                Fail("Url", $"must be an absolute http or https URL, got '{t.Url}'");
            }
            if (t.Secret.Length < 16)
            {
                Fail("Secret", "must be at least 16 characters: it signs every body (HMAC-SHA256) so that receivers can tell a forged alert");
            }
            if (t.MaxAttempts is < 1 or > 100)
            {
                Fail("MaxAttempts", $"must be between 1 and 100, got {t.MaxAttempts}");
            }
            if (t.InitialBackoff <= TimeSpan.Zero || t.MaxBackoff < t.InitialBackoff)
            {
                Fail("InitialBackoff", "must be positive and at most MaxBackoff");
            }
            if (t.Timeout <= TimeSpan.Zero)
            {
                Fail("Timeout", "must be positive");
            }
        }
        return errors;
    }
}

/// <summary>The signature of a webhook body: <c>sha256=</c> and the lowercase hex HMAC-SHA256 of the raw body bytes.</summary>
public static class WebhookSignature
{
    public const string Header = "X-ReviewOrleans-Signature";
    public const string EventHeader = "X-ReviewOrleans-Event";
    public const string DeliveryHeader = "X-ReviewOrleans-Delivery";
    private const string Prefix = "sha256=";

    public static string Compute(ReadOnlySpan<byte> body, string secret) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Whether <paramref name="header"/> signs <paramref name="body"/> with <paramref name="secret"/>, compared in fixed time.</summary>
    public static bool Verify(ReadOnlySpan<byte> body, string secret, string? header) =>
        header is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(body, secret)), Encoding.ASCII.GetBytes(header));
}

/// <summary>The JSON body POSTed for an alert firing or resolving (snake_case, times in ISO 8601 UTC).</summary>
public static class AlertNotification
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string EventName(string alertEvent) => "alert." + alertEvent;

    public static string Body(Alert alert, string alertEvent) => JsonSerializer.Serialize(new
    {
        Event = EventName(alertEvent),
        Alert = new
        {
            alert.Id,
            alert.Rule,
            alert.Kind,
            alert.State,
            alert.Category,
            alert.Summary,
            alert.Value,
            alert.Threshold,
            FiredAt = DateTimeOffset.FromUnixTimeMilliseconds(alert.FiredMs),
            ResolvedAt = alert.ResolvedMs is { } resolved ? DateTimeOffset.FromUnixTimeMilliseconds(resolved) : (DateTimeOffset?)null,
            WindowStart = DateTimeOffset.FromUnixTimeMilliseconds(alert.WindowStartMs),
            Attribution = alert.Attribution.Select(a => new { a.Feature, a.Attribution, a.Strength, a.Direction }),
        },
    }, Json);
}

/// <summary>One alert event's notification to one webhook, and how its attempts went.</summary>
public sealed class WebhookDelivery
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string DeadLettered = "dead_lettered";

    /// <summary>"{alert id}/{event}/{target}": the same on every attempt, sent as <see cref="WebhookSignature.DeliveryHeader"/>.</summary>
    public string Id { get; set; } = "";
    public string AlertId { get; set; } = "";
    public string Target { get; set; } = "";
    public string Event { get; set; } = "";
    /// <summary>Fixed when queued, so that every attempt sends (and signs) the same bytes.</summary>
    public string Body { get; set; } = "";
    public string State { get; set; } = Pending;
    public int Attempts { get; set; }
    public string LastError { get; set; } = "";
    public long LastAttemptMs { get; set; }
    public long NextAttemptMs { get; set; }
}

/// <summary>
/// Alert notifications waiting for or done with their webhooks: queued once per alert event and target, retried with
/// exponential backoff after a failure, dead-lettered after the target's MaxAttempts. Persisted by its owner, so that
/// a restart neither loses a notification nor sends a delivered one again.
/// </summary>
public sealed class WebhookOutbox
{
    /// <summary>Finished deliveries kept for reporting, newest; pending ones are always kept.</summary>
    public const int FinishedKept = 500;

    public List<WebhookDelivery> Deliveries { get; set; } = [];

    /// <summary>Queues the event's notification to each target that wants the rule; a delivery already queued is not queued again.</summary>
    public List<WebhookDelivery> Enqueue(AlertChange change, IEnumerable<WebhookTarget> targets, long nowMs)
    {
        var queued = new List<WebhookDelivery>();
        string? body = null;
        foreach (var target in targets.Where(t => t.Wants(change.Alert.Rule)))
        {
            var id = $"{change.Alert.Id}/{change.Event}/{target.Name}";
            if (Deliveries.Any(d => d.Id == id))
            {
                continue;
            }
            var delivery = new WebhookDelivery
            {
                Id = id,
                AlertId = change.Alert.Id,
                Target = target.Name,
                Event = change.Event,
                Body = body ??= AlertNotification.Body(change.Alert, change.Event),
                NextAttemptMs = nowMs,
            };
            Deliveries.Add(delivery);
            queued.Add(delivery);
        }
        return queued;
    }

    public IEnumerable<WebhookDelivery> Due(long nowMs) =>
        Deliveries.Where(d => d.State == WebhookDelivery.Pending && d.NextAttemptMs <= nowMs).ToList();

    public long? NextDueMs => Deliveries.Where(d => d.State == WebhookDelivery.Pending).Select(d => (long?)d.NextAttemptMs).Min();

    /// <summary>Records an attempt: <paramref name="error"/> null for success. Returns whether the delivery was dead-lettered by it.</summary>
    public bool Record(WebhookDelivery delivery, WebhookTarget? target, string? error, long nowMs)
    {
        delivery.Attempts++;
        delivery.LastAttemptMs = nowMs;
        if (error is null)
        {
            delivery.State = WebhookDelivery.Delivered;
            delivery.LastError = "";
            Prune();
            return false;
        }
        delivery.LastError = error;
        if (target is null || delivery.Attempts >= target.MaxAttempts)
        {
            delivery.State = WebhookDelivery.DeadLettered;
            Prune();
            return true;
        }
        delivery.NextAttemptMs = nowMs + (long)Backoff(target, delivery.Attempts).TotalMilliseconds;
        return false;
    }

    /// <summary>The wait after the <paramref name="attempts"/>th failed attempt: the initial backoff, doubled per failure, at most the maximum.</summary>
    public static TimeSpan Backoff(WebhookTarget target, int attempts)
    {
        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(target.MaxBackoff.TotalMilliseconds, target.InitialBackoff.TotalMilliseconds * factor));
    }

    public IEnumerable<WebhookDelivery> Of(string alertId) => Deliveries.Where(d => d.AlertId == alertId);

    private void Prune()
    {
        var finished = Deliveries.Where(d => d.State != WebhookDelivery.Pending).ToList();
        if (finished.Count > FinishedKept)
        {
            var drop = finished.OrderBy(d => d.LastAttemptMs).Take(finished.Count - FinishedKept).ToHashSet();
            Deliveries.RemoveAll(drop.Contains);
        }
    }
}

/// <summary>POSTs a delivery's body to its webhook, signed; says why an attempt failed.</summary>
public sealed class WebhookSender(HttpClient http)
{
    /// <summary>Null when the webhook answered 2xx; otherwise what went wrong (status, error or timeout).</summary>
    public async Task<string?> SendAsync(WebhookTarget target, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(delivery.Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Compute(body, target.Secret));
        request.Headers.Add(WebhookSignature.EventHeader, AlertNotification.EventName(delivery.Event));
        request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(target.Timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {target.Timeout.TotalSeconds:0.#} s";
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
    }
}
