using System.Globalization;
using Google.Protobuf;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary><c>reviewctl alerts</c>: the alert rules' alerts with their deliveries, and the rules themselves.</summary>
internal static class AlertCommands
{
    public const string Usage = """
        usage: reviewctl alerts [--limit N] [--json]
               reviewctl alerts rules [--json]
               reviewctl alerts rules set FILE

        alerts         the alerts firing now and the most recent ones (default 20), each with its webhook deliveries
        alerts rules   the rules in force
        rules set FILE replaces the rules with those of FILE (JSON, as `alerts rules --json` prints; - for stdin);
                       a bad rule refuses the whole set, naming the rule and field
        """;

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    public static Task<int> RunAsync(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        if (cl.Positionals.Count == 0)
        {
            var limit = cl.Int("limit", 20);
            cl.RejectUnknownOptions();
            var response = await gateway.Client.ListAlertsAsync(new ListAlertsRequest { Limit = limit });
            gateway.Print(response, () =>
            {
                Console.WriteLine($"{response.Firing.Count} firing");
                foreach (var alert in response.Recent)
                {
                    Console.WriteLine(Format(alert));
                }
            });
            return 0;
        }
        if (cl.Positionals[0] != "rules")
        {
            throw new CommandLineException($"unknown subcommand '{cl.Positionals[0]}' (rules)\n{Usage}");
        }
        if (cl.Positionals.Count == 1)
        {
            cl.RejectUnknownOptions();
            var rules = await gateway.Client.GetAlertRulesAsync(new GetAlertRulesRequest());
            gateway.Print(rules, () => PrintRules(rules));
            return 0;
        }
        if (cl.Positionals.Count != 3 || cl.Positionals[1] != "set")
        {
            throw new CommandLineException(Usage);
        }
        cl.RejectUnknownOptions();
        var path = cl.Positionals[2];
        var text = path == "-" ? await Console.In.ReadToEndAsync() : await File.ReadAllTextAsync(path);
        AlertRules request;
        try
        {
            request = Parser.Parse<AlertRules>(text);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new CommandLineException($"{path} is not a rule set ({{\"rules\": [...]}} as `reviewctl alerts rules --json` prints): {ex.Message}");
        }
        var replaced = await gateway.Client.PutAlertRulesAsync(request);
        gateway.Print(replaced, () => PrintRules(replaced));
        return 0;
    });

    private static void PrintRules(AlertRules rules)
    {
        foreach (var r in rules.Rules)
        {
            var condition = r.Kind switch
            {
                "anomaly_grade" => $"grade >= {r.Threshold:0.##} for {r.Windows} window(s)",
                "negative_share" => $"{r.Category}: negative share > {r.Threshold:P0} for {r.Windows} window(s) (min {r.MinReviews} reviews)",
                "volume_drop" => $"{r.Category}: volume < {r.Threshold:0.#}% of last-hour mean for {r.Windows} window(s) (min {r.MinReviews} reviews)",
                "no_reviews" => $"no reviews for {r.SilenceSeconds} s",
                _ => r.Kind,
            };
            Console.WriteLine($"{r.Name,-20} {r.Kind,-15} {condition}{(r.Disabled ? "  (disabled)" : "")}");
        }
    }

    private static string Format(Alert a)
    {
        var deliveries = a.Deliveries.Count == 0 ? "no webhooks"
            : string.Join(", ", a.Deliveries.Select(d => $"{d.Target} {d.Event} {d.State}{(d.Attempts > 1 ? $" after {d.Attempts} attempts" : "")}{(d.LastError.Length > 0 && d.State != "delivered" ? $" ({d.LastError})" : "")}"));
        var attribution = a.Attribution.Count == 0 ? ""
            : "\n    attribution: " + string.Join(", ", a.Attribution.OrderByDescending(x => x.Attribution).Take(5).Select(x => $"{x.Feature} {x.Direction} {x.Attribution:F2}"));
        return $"{Time(a.FiredMs)}  {a.State.ToUpperInvariant(),-8} {a.Rule,-16} {a.Summary}" +
            (a.ResolvedMs > 0 ? $"  (resolved {Time(a.ResolvedMs)})" : "") + $"\n    {deliveries}{attribution}";
    }

    internal static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
