using System.Diagnostics;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Synthetic;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl generate</c>: the project's synthetic review stream, as JSONL on stdout or sent to a gateway
/// (<c>--send</c>) at <c>--rate</c> reviews/s, with injectable anomalies.
/// </summary>
internal static class GenerateCommand
{
    public static Task<int> RunAsync(string[] args) => GatewayConnection.RunAsync(args, ["send"], async (gateway, cl) =>
    {
        var count = cl.Long("count", 1_000);
        var rate = cl.Double("rate", 0);
        var seed = cl.Int("seed", 7);
        var batchSize = cl.Int("batch", 500);
        var inject = ParseInjections(cl.String("inject"));
        var send = cl.Flag("send");
        cl.RejectUnknownOptions();
        if (count < 0 || rate < 0 || batchSize < 1)
        {
            throw new CommandLineException("--count and --rate must not be negative, --batch must be at least 1");
        }

        var generator = new SyntheticReviewGenerator(seed);
        var reviews = Generate(generator, count, inject);
        if (!send)
        {
            using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
            var clock = Stopwatch.StartNew();
            long written = 0;
            foreach (var review in reviews)
            {
                await output.WriteLineAsync(ReviewJsonWriter.ToJson(review));
                written++;
                await Pace(rate, written, clock);
            }
            return 0;
        }

        long accepted = 0, failed = 0, sent = 0;
        var started = Stopwatch.StartNew();
        foreach (var chunk in reviews.Chunk(batchSize))
        {
            var request = new PutReviewsRequest();
            request.Records.AddRange(chunk.Select(r => new ReviewRecord { Review = ReviewApi.ToApi(r) }));
            var response = await gateway.Client.PutReviewsAsync(request);
            accepted += response.AcceptedRecordCount;
            failed += response.FailedRecordCount;
            sent += chunk.Length;
            await Pace(rate, sent, started);
        }
        var seconds = started.Elapsed.TotalSeconds;
        Console.WriteLine(gateway.Json
            ? System.Text.Json.JsonSerializer.Serialize(new { sent, accepted, failed, seconds })
            : $"sent {sent} reviews in {seconds:F1} s: accepted {accepted}, failed {failed}");
        return failed == 0 ? 0 : 3; // as send does
    });

    /// <summary>Ordinary reviews, with each requested injection placed at an even spot in the stream.</summary>
    private static IEnumerable<ReviewMessage> Generate(SyntheticReviewGenerator generator, long count, List<(InjectedAnomaly Kind, int Count)> inject)
    {
        var slots = inject.Select((x, i) => (At: count * (i + 1) / (inject.Count + 1), x.Kind, x.Count)).ToList();
        for (long i = 0; i < count; i++)
        {
            foreach (var slot in slots.Where(s => s.At == i))
            {
                foreach (var review in generator.Inject(slot.Kind, slot.Count))
                {
                    yield return review;
                }
            }
            yield return generator.Next();
        }
    }

    private static List<(InjectedAnomaly, int)> ParseInjections(string? text)
    {
        var result = new List<(InjectedAnomaly, int)>();
        if (string.IsNullOrEmpty(text))
        {
            return result;
        }
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':');
            var kind = pieces[0] switch
            {
                "burst" => InjectedAnomaly.OneStarBurst,
                "malformed" => InjectedAnomaly.Malformed,
                "flood" => InjectedAnomaly.CategoryFlood,
                "duplicates" => InjectedAnomaly.Duplicates,
                _ => throw new CommandLineException($"option --inject: unknown anomaly '{pieces[0]}' (burst, malformed, flood, duplicates)"),
            };
            var n = kind == InjectedAnomaly.OneStarBurst ? 2_000 : 100;
            if (pieces.Length > 1 && (!int.TryParse(pieces[1], out n) || n < 1))
            {
                throw new CommandLineException($"option --inject: '{part}' needs a positive count after the colon");
            }
            result.Add((kind, n));
        }
        return result;
    }

    private static async Task Pace(double rate, long done, Stopwatch clock)
    {
        if (rate <= 0)
        {
            return;
        }
        var due = TimeSpan.FromSeconds(done / rate) - clock.Elapsed;
        if (due > TimeSpan.FromMilliseconds(1))
        {
            await Task.Delay(due);
        }
    }
}
