using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>The scored reviews the silos deliver: how the delivery goes, and what it delivered to PostgreSQL.</summary>
internal static class DeliveryCommands
{
    public const string QueryUsage = "usage: reviewctl query scored [--category NAME] [--stars N] [--predicted N] [--since T] [--until T] [--limit N]";

    public static Task<int> Deliveries(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        cl.RejectUnknownOptions();
        var response = await gateway.Client.GetDeliveriesAsync(new GetDeliveriesRequest());
        gateway.Print(response, () =>
        {
            if (response.Destinations.Count == 0)
            {
                Console.WriteLine("no delivery of scored reviews is configured (Delivery:PostgreSQL, Delivery:FilesPath)");
                return;
            }
            Console.WriteLine($"{"silo",-28} {"destination",-11} {"delivered",10} {"dead-lettered",13} {"failures",8} {"retries",7} {"buffered",9} {"oldest",8} {"lag",8}  last error");
            foreach (var d in response.Destinations)
            {
                var error = d.LastError.Length == 0 ? "" : $"{d.LastErrorAt?.ToDateTime():yyyy-MM-dd HH:mm:ss} {d.LastError}";
                Console.WriteLine($"{d.Silo,-28} {d.Destination,-11} {d.Delivered,10:N0} {d.DeadLettered,13:N0} {d.Failures,8:N0} {d.Retries,7:N0} " +
                    $"{d.BufferedRecords,9:N0} {Seconds(d.OldestBufferedAgeMs),8} {Seconds(d.LastLagMs),8}  {error}");
            }
        });
        return 0;
    });

    public static Task<int> Query(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        if (cl.Positionals is not ["scored"])
        {
            throw new CommandLineException(QueryUsage);
        }
        var now = DateTimeOffset.UtcNow;
        var request = new QueryScoredReviewsRequest
        {
            Category = cl.String("category", ""),
            StarRating = cl.Int("stars", 0),
            PredictedStars = cl.Int("predicted", 0),
            Limit = cl.Int("limit", 100),
        };
        if (cl.String("since") is { } since)
        {
            request.Since = Timestamp.FromDateTimeOffset(PointInTime(since, now, "since"));
        }
        if (cl.String("until") is { } until)
        {
            request.Until = Timestamp.FromDateTimeOffset(PointInTime(until, now, "until"));
        }
        cl.RejectUnknownOptions();
        var response = await gateway.Client.QueryScoredReviewsAsync(request);
        gateway.Print(response, () =>
        {
            Console.WriteLine($"{response.Reviews.Count} scored review(s), newest first:");
            Console.WriteLine($"{"ingested at",-19} {"category",-14} {"review id",-18} {"stars",5} {"pred",4} {"expected",8} {"anomaly",8}  {"source",-12} model");
            foreach (var r in response.Reviews)
            {
                Console.WriteLine($"{r.IngestedAt.ToDateTime():yyyy-MM-dd HH:mm:ss} {r.Category,-14} {r.ReviewId,-18} {(r.StarRating > 0 ? r.StarRating.ToString(CultureInfo.InvariantCulture) : "-"),5} " +
                    $"{r.PredictedStars,4} {r.ExpectedStars,8:F2} {(r.HasAnomalyScore ? r.AnomalyScore.ToString("F3", CultureInfo.InvariantCulture) : "-"),8}  {r.Source,-12} {r.ModelVersion}");
            }
        });
        return 0;
    });

    /// <summary>"2d", "12h", "30m", "90s", "1w" before now, or an ISO 8601 time.</summary>
    internal static DateTimeOffset PointInTime(string text, DateTimeOffset now, string option)
    {
        if (text.Length >= 2 && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            TimeSpan? ago = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                'w' => TimeSpan.FromDays(7 * amount),
                _ => null,
            };
            if (ago is { } span)
            {
                return now - span;
            }
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw new CommandLineException($"--{option} '{text}' is neither a duration before now (30m, 12h, 2d, 1w) nor a time (2026-12-01T08:00Z)");
    }

    private static string Seconds(long ms) => ms == 0 ? "-" : $"{ms / 1000.0:F1}s";
}
