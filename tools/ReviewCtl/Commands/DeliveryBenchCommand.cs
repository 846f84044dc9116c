using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReviewOrleans.Database;
using ReviewOrleans.Delivery;
using ReviewOrleans.Synthetic;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl bench delivery</c>: the sustained rate of each scored-review destination as the silos drive it
/// (<see cref="ScoredReviewDelivery"/> with its default 1 MB batches): appended as fast as back-pressure lets them
/// in, the clock stopped when the destination holds the last record. PostgreSQL into a throwaway database of the
/// server named; files under a temporary folder.
/// </summary>
internal static class DeliveryBenchCommand
{
    public const string Usage = "usage: reviewctl bench delivery [--records N] [--chunk N] [--postgres CS] [--no-files]\n\n" +
        "Scored-review delivery: records/s into PostgreSQL (binary COPY + ON CONFLICT, a throwaway database on the server\n" +
        "named by --postgres or $REVIEWORLEANS_POSTGRES) and into gzip JSON-lines files, appended in chunks of --chunk as\n" +
        "the anomaly shards append them.";

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args);
        var count = cl.Int("records", 500_000);
        var chunk = cl.Int("chunk", 2_000);
        var server = cl.String("postgres") ?? Environment.GetEnvironmentVariable("REVIEWORLEANS_POSTGRES");
        var files = !cl.Flag("no-files");
        cl.RejectUnknownOptions();
        if (count < 10_000 || chunk < 1)
        {
            throw new CommandLineException("--records must be at least 10000 and --chunk at least 1");
        }
        var records = Records(count);
        Console.WriteLine($"scored-review delivery: {count:N0} records of {records.Average(r => r.EstimatedBytes):F0} estimated bytes, appended in chunks of {chunk:N0}, {Environment.ProcessorCount} cores");

        if (server is null)
        {
            Console.WriteLine("postgresql: skipped (no server: --postgres CS or $REVIEWORLEANS_POSTGRES)");
        }
        else
        {
            var name = $"revieworleans_bench_{Guid.NewGuid():N}";
            await ExecuteAsync(server, $"CREATE DATABASE \"{name}\"");
            var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
            try
            {
                await PostgresSchema.ApplyScriptAsync(connectionString, PostgresSchema.ScoredReviewsScript, "--postgres");
                await using var dataSource = NpgsqlDataSource.Create(connectionString);
                // Once into an empty table, once again over it (every row a conflict: what a replay after a crash costs).
                var first = await MeasureAsync(new PostgresScoredReviewDestination(dataSource), records, chunk);
                var again = await MeasureAsync(new PostgresScoredReviewDestination(dataSource), records, chunk);
                await using var verify = dataSource.CreateCommand("SELECT count(*) FROM scored_reviews");
                var rows = (long)(await verify.ExecuteScalarAsync())!;
                Console.WriteLine($"postgresql: {count / first:N0} records/s into an empty table ({first:F1} s), {count / again:N0} records/s delivered again (all conflicts, {again:F1} s); {rows:N0} rows");
            }
            finally
            {
                NpgsqlConnection.ClearAllPools();
                await ExecuteAsync(server, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            }
        }

        if (files)
        {
            var folder = Directory.CreateTempSubdirectory("revieworleans-bench-delivery-").FullName;
            try
            {
                var seconds = await MeasureAsync(new GzipJsonlFileDestination(folder, 128L * 1024 * 1024, TimeSpan.FromMinutes(15), TimeProvider.System), records, chunk);
                var bytes = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
                Console.WriteLine($"files:      {count / seconds:N0} records/s ({seconds:F1} s), {bytes / (double)count:F0} compressed bytes per record");
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        return 0;
    }

    /// <summary>Seconds from the first append until the destination holds every record (the delivery disposed after).</summary>
    private static async Task<double> MeasureAsync(IScoredReviewDestination destination, List<ScoredReview> records, int chunk)
    {
        var errors = Directory.CreateTempSubdirectory("revieworleans-bench-errors-").FullName;
        var delivery = new ScoredReviewDelivery([destination], new DeliveryOptions(), new DeliveryErrorStore(errors, TimeProvider.System),
            new NoDeadLetters(), TimeProvider.System, NullLogger<ScoredReviewDelivery>.Instance);
        try
        {
            var clock = Stopwatch.StartNew();
            long ticket = 0;
            for (var i = 0; i < records.Count; i += chunk)
            {
                ticket = await delivery.AppendAsync(records.GetRange(i, Math.Min(chunk, records.Count - i)));
            }
            if (!await delivery.FlushThroughAsync(ticket, TimeSpan.FromMinutes(10)))
            {
                throw new TimeoutException($"{destination.Name} did not take {records.Count:N0} records in 10 minutes");
            }
            var seconds = clock.Elapsed.TotalSeconds;
            var status = delivery.Status()[0];
            if (status.Delivered != records.Count)
            {
                throw new InvalidOperationException($"{destination.Name}: {status.Delivered:N0} delivered, {status.DeadLettered:N0} dead-lettered of {records.Count:N0}: {status.LastError}");
            }
            return seconds;
        }
        finally
        {
            await delivery.DisposeAsync();
            Directory.Delete(errors, recursive: true);
        }
    }

    /// <summary>Records shaped like the pipeline's: synthetic reviews' ids, categories and sources, a model's probabilities.</summary>
    private static List<ScoredReview> Records(int count)
    {
        var generator = new SyntheticReviewGenerator(seed: 5);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var random = new Random(5);
        var records = new List<ScoredReview>(count);
        for (var i = 0; i < count; i++)
        {
            var review = generator.Next();
            var p = new float[5];
            var sum = 0f;
            for (var s = 0; s < 5; s++)
            {
                sum += p[s] = (float)random.NextDouble();
            }
            var expected = 0f;
            for (var s = 0; s < 5; s++)
            {
                p[s] /= sum;
                expected += (s + 1) * p[s];
            }
            records.Add(new ScoredReview
            {
                ReviewId = review.ReviewId,
                Category = review.ProductCategory,
                Source = review.SourceOrUnknown,
                StarRating = review.StarRating,
                PredictedStars = 1 + Array.IndexOf(p, p.Max()),
                Probabilities = p,
                ExpectedStars = expected,
                AnomalyScore = random.NextDouble() * 3,
                IngestedAtMs = now + i,
                EventTimeMs = review.EventTimeMs,
                ModelVersion = "fasttext-bench",
            });
        }
        return records;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed class NoDeadLetters : IDeliveryDeadLetters
    {
        public Task ReportAsync(string destination, string rule, IReadOnlyList<ScoredReview> records, string reason, string errorsFile) =>
            throw new InvalidOperationException($"{destination} dead-lettered {records.Count} records during the benchmark: {reason}");
    }
}
