using System.Globalization;
using Grpc.Core;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>The query and action commands: categories, category, counts, anomaly, priority, ack, deadletters.</summary>
internal static class QueryCommands
{
    public static Task<int> Categories(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        cl.RejectUnknownOptions();
        var response = await gateway.Client.ListCategoriesAsync(new ListCategoriesRequest());
        gateway.Print(response, () => response.Categories.ToList().ForEach(Console.WriteLine));
        return 0;
    });

    public static Task<int> Category(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var last = cl.Int("last", 12);
        cl.RejectUnknownOptions();
        var name = Single(cl, "usage: reviewctl category NAME [--last N]");
        var response = await gateway.Client.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = name, LastWindows = last });
        gateway.Print(response, () =>
        {
            Console.WriteLine($"category {response.Category}: {response.Windows.Count} window(s), {response.LateReviews} late review(s)");
            Console.WriteLine($"{"window start (UTC)",-24} {"count",8} {"avg stars",9} {"negative",8}  1*/2*/3*/4*/5*");
            foreach (var w in response.Windows)
            {
                Console.WriteLine($"{Time(w.WindowStartMs),-24} {w.Count,8} {w.AverageExpectedStars,9:F3} {w.NegativeShare,8:P1}  {string.Join('/', w.StarCounts)}{(w.IsUpdate ? "  (updated)" : "")}");
            }
        });
        return 0;
    });

    public static Task<int> Counts(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var last = cl.Int("last", 12);
        cl.RejectUnknownOptions();
        var response = await gateway.Client.GetCountsAsync(new GetCountsRequest { LastWindows = last });
        gateway.Print(response, () =>
        {
            Console.WriteLine($"reviews {response.TotalReviews}   rejected {response.RejectedReviews}   duplicates {response.DuplicateReviews}   distinct (all time, approx.) {response.AllTimeDistinctReviews:F0}");
            Console.WriteLine("per category: " + string.Join("  ", response.PerCategory.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")));
            Console.WriteLine("per source:   " + string.Join("  ", response.PerSource.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")));
            foreach (var w in response.Windows)
            {
                Console.WriteLine($"  {Time(w.WindowStartMs),-24} distinct {w.DistinctReviews,10:F0} {(w.Exact ? "exact" : "approx.")}");
            }
        });
        return 0;
    });

    public static Task<int> Cluster(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        cl.RejectUnknownOptions();
        var response = await gateway.Client.GetClusterAsync(new GetClusterRequest());
        gateway.Print(response, () =>
        {
            var active = response.Silos.Where(s => s.Status == "Active").ToList();
            Console.WriteLine($"silos: {active.Count} active of {response.Silos.Count} in the membership table");
            Console.WriteLine($"  {"address",-32} {"status",-13} {"uptime",10}  {"partitions",10} {"shards",6} {"queues",6}  name");
            foreach (var silo in response.Silos)
            {
                var partitions = response.Placements.Count(p => p.Kind == "partition" && p.Silo == silo.Address);
                var shards = response.Placements.Count(p => p.Kind == "anomaly-shard" && p.Silo == silo.Address);
                var queues = response.Placements.Count(p => p.Kind == "stream-queue" && p.Silo == silo.Address);
                var uptime = silo.Status == "Active" ? TimeSpan.FromSeconds(Math.Round(silo.UptimeSeconds)).ToString() : "-";
                Console.WriteLine($"  {silo.Address,-32} {silo.Status,-13} {uptime,10}  {partitions,10} {shards,6} {queues,6}  {silo.Name}");
            }
            foreach (var kind in new[] { "partition", "anomaly-shard", "stream-queue" })
            {
                Console.WriteLine($"{kind}s:");
                foreach (var group in response.Placements.Where(p => p.Kind == kind).GroupBy(p => p.Silo).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    Console.WriteLine($"  {group.Key,-32} {string.Join(' ', group.Select(p => p.Key.ToString(CultureInfo.InvariantCulture)))}");
                }
            }
        });
        return 0;
    });

    public static Task<int> Anomaly(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var recent = cl.Int("alerts", 10);
        cl.RejectUnknownOptions();
        var response = await gateway.Client.GetAnomalyAsync(new GetAnomalyRequest { RecentAlerts = recent });
        gateway.Print(response, () =>
        {
            Console.WriteLine($"profile {response.Profile} ({string.Join(", ", response.Features)})   grade {response.Grade:F3}   score {response.Score:F3}   points {response.PointsSeen}");
            foreach (var alert in response.RecentAlerts)
            {
                Console.WriteLine(FormatAlert(alert));
            }
        });
        return 0;
    });

    public static Task<int> Priority(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var request = new ListPriorityReviewsRequest { Category = cl.String("category", ""), Limit = cl.Int("limit", 20) };
        cl.RejectUnknownOptions();
        var response = await gateway.Client.ListPriorityReviewsAsync(request);
        gateway.Print(response, () =>
        {
            foreach (var r in response.Reviews)
            {
                Console.WriteLine($"{r.ReviewId,-16} {r.Category,-14} {r.PredictedStars}* ({r.ExpectedStars:F2})  {Clip(r.ReviewBody, 70)}");
            }
        });
        return 0;
    });

    public static Task<int> Acknowledge(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var category = cl.String("category", "");
        cl.RejectUnknownOptions();
        var id = Single(cl, "usage: reviewctl ack REVIEW_ID [--category NAME]");
        var response = await gateway.Client.AcknowledgeReviewAsync(new AcknowledgeReviewRequest { ReviewId = id, Category = category });
        gateway.Print(response, () => Console.WriteLine($"acknowledged {id} in {response.Category}"));
        return 0;
    });

    public static Task<int> DeadLetters(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var limit = cl.Int("limit", 20);
        cl.RejectUnknownOptions();
        var response = await gateway.Client.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = limit });
        gateway.Print(response, () =>
        {
            Console.WriteLine($"{response.Total} dead letter(s) in all; newest {response.DeadLetters.Count}:");
            foreach (var d in response.DeadLetters)
            {
                Console.WriteLine($"{Time(d.TimeMs),-24} {d.Stage,-9} {(d.ReviewId.Length > 0 ? d.ReviewId : "(no id)"),-16} {d.Field}.{d.Rule}: {d.Message}");
            }
        });
        return 0;
    });

    public static Task<int> Watch(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var category = cl.String("category", "");
        var max = cl.Long("max", long.MaxValue);
        cl.RejectUnknownOptions();
        var what = Single(cl, "usage: reviewctl watch metrics|alerts [--category NAME] [--max N]");
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        long seen = 0;
        try
        {
            switch (what)
            {
                case "metrics":
                    using (var call = gateway.Client.WatchMetrics(new WatchMetricsRequest { Category = category }, cancellationToken: cancel.Token))
                    {
                        await foreach (var w in call.ResponseStream.ReadAllAsync(cancel.Token))
                        {
                            gateway.Print(w, () => Console.WriteLine($"{Time(w.WindowStartMs),-24} {w.Category,-14} {w.Count,7} avg {w.AverageExpectedStars:F3} neg {w.NegativeShare:P1}{(w.IsUpdate ? " (updated)" : "")}"));
                            if (++seen >= max) break;
                        }
                    }
                    break;
                case "alerts":
                    using (var call = gateway.Client.WatchAlerts(new WatchAlertsRequest(), cancellationToken: cancel.Token))
                    {
                        await foreach (var notice in call.ResponseStream.ReadAllAsync(cancel.Token))
                        {
                            // The alerts stream is not keyed by category, so --category filters here.
                            var noticeCategory = notice.Alert?.Category ?? notice.Detection?.Category ?? "";
                            if (category.Length > 0 && noticeCategory != category)
                            {
                                continue;
                            }
                            gateway.Print(notice, () => Console.WriteLine(notice.Alert is { } alert
                                ? $"{Time(alert.ResolvedMs > 0 ? alert.ResolvedMs : alert.FiredMs),-24} {alert.State.ToUpperInvariant(),-8} {alert.Rule}: {alert.Summary}"
                                : "detection " + FormatAlert(notice.Detection!)));
                            if (++seen >= max) break;
                        }
                    }
                    break;
                default:
                    throw new CommandLineException($"watch: unknown stream '{what}' (metrics or alerts)");
            }
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.Cancelled && cancel.IsCancellationRequested)
        {
        }
        return 0;
    });

    private static string FormatAlert(AnomalyAlert alert) =>
        $"{Time(alert.TimeMs),-24} shard {alert.AnomalyShard,2}  score {alert.Score:F2} grade {alert.Grade:F2}  {alert.Category}/{alert.ReviewId}  " +
        string.Join(", ", alert.Attribution.OrderByDescending(a => a.Attribution).Select(a => $"{a.Feature} {a.Direction} {a.Strength:P0}"));

    private static string Single(CommandLine cl, string usage) =>
        cl.Positionals.Count == 1 ? cl.Positionals[0] : throw new CommandLineException(usage);

    private static string Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static string Clip(string text, int max) => (text.Length <= max ? text : text[..max] + "…").ReplaceLineEndings(" ");
}
