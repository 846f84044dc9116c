using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using ReviewOrleans.Database;
using ReviewOrleans.Delivery;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// Delivery of scored reviews into PostgreSQL's scored_reviews table: a COPY that fails half-way leaves nothing, a
/// batch delivered again adds nothing, a server that goes away and comes back loses nothing, and records that cannot
/// be delivered in time go to the errors store and the dead letters, with the reason.
/// </summary>
public sealed class ScoredReviewPostgresTests
{
    private static async Task<TestDatabase> DatabaseAsync()
    {
        var database = await TestDatabase.CreateAsync("scored");
        await PostgresSchema.ApplyScriptAsync(database.ConnectionString, PostgresSchema.ScoredReviewsScript, "test");
        return database;
    }

    private static DeliveryOptions FastRetries(TimeSpan? deadLetterAfter = null) => new()
    {
        PostgreSQL = true,
        BatchBytes = 64 * 1024,
        BatchAge = TimeSpan.FromMilliseconds(100),
        RetryInitialDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        DeadLetterAfter = deadLetterAfter ?? TimeSpan.FromHours(1),
    };

    [PostgresFact]
    public async Task CopyFailingHalfWay_LeavesNothing_RetriedAndRedelivered_EveryRowOnce()
    {
        await using var database = await DatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var destination = new PostgresScoredReviewDestination(dataSource);
        var records = TestScoredReviews.Records(0, 1_000);

        // A first attempt that committed a part (its acknowledgement lost), then the whole batch failing at row 500.
        await destination.DeliverAsync(records[..300], CancellationToken.None);
        destination.BeforeRow = i =>
        {
            if (i == 500)
            {
                throw new IOException("the connection dropped half-way through the COPY");
            }
        };
        await Assert.ThrowsAsync<IOException>(() => destination.DeliverAsync(records, CancellationToken.None));
        Assert.Equal(300L, await database.ScalarAsync<long>("SELECT count(*) FROM scored_reviews"));

        destination.BeforeRow = null;
        await destination.DeliverAsync(records, CancellationToken.None);
        await destination.DeliverAsync(records, CancellationToken.None);
        Assert.Equal(1_000L, await database.ScalarAsync<long>("SELECT count(*) FROM scored_reviews"));
        Assert.Equal(1_000L, await database.ScalarAsync<long>("SELECT count(DISTINCT review_id) FROM scored_reviews"));

        // Every field as sent, read back the way the gateway reads it.
        var read = await new ScoredReviewQuery(dataSource).RunAsync(new ScoredReviewFilter(null, null, null, 0, null, 10_000));
        Assert.Equal(1_000, read.Count);
        TestScoredReviews.AssertSameRecords(records, read);
        var booksOneStar = await new ScoredReviewQuery(dataSource).RunAsync(new ScoredReviewFilter("books", 1, null, 0, null, 10_000));
        Assert.Equal(records.Count(r => r.Category == "books" && r.StarRating == 1), booksOneStar.Count);
        Assert.True(booksOneStar.Zip(booksOneStar.Skip(1)).All(p => p.First.IngestedAtMs >= p.Second.IngestedAtMs), "newest first");
    }

    [PostgresFact]
    public async Task DeliveryRetriesAFailedCopy_CountsTheFailureAndTheRetry()
    {
        await using var database = await DatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var attempts = 0;
        var destination = new PostgresScoredReviewDestination(dataSource)
        {
            BeforeRow = i =>
            {
                if (i == 250 && Interlocked.Increment(ref attempts) == 1)
                {
                    throw new IOException("the connection dropped half-way through the COPY");
                }
            },
        };
        var deadLetters = new RecordedDeadLetters();
        using var errors = new ScratchDirectory("revieworleans-delivery-errors-");
        await using var delivery = new ScoredReviewDelivery([destination], FastRetries(), new DeliveryErrorStore(errors.Path, TimeProvider.System),
            deadLetters, TimeProvider.System, NullLogger<ScoredReviewDelivery>.Instance);

        var ticket = await delivery.AppendAsync(TestScoredReviews.Records(0, 1_000));
        Assert.True(await delivery.FlushThroughAsync(ticket, TimeSpan.FromSeconds(60)));

        Assert.Equal(1_000L, await database.ScalarAsync<long>("SELECT count(*) FROM scored_reviews"));
        var status = Assert.Single(delivery.Status());
        Assert.Equal(("postgresql", 1_000L, 0L, 1L, 1L, 0L), (status.Destination, status.Delivered, status.DeadLettered, status.Failures, status.Retries, status.BufferedRecords));
        Assert.Contains("half-way", status.LastError);
        Assert.Empty(deadLetters.Reports);
    }

    [PostgresFact]
    public async Task ServerGoneDuringDelivery_BuffersAndRetries_NothingLostWhenItReturns()
    {
        await using var database = await DatabaseAsync();
        await using var outage = TcpOutage.InFrontOf(database.ConnectionString, out var throughRelay);
        await using var dataSource = NpgsqlDataSource.Create(throughRelay);
        using var errors = new ScratchDirectory("revieworleans-delivery-errors-");
        var deadLetters = new RecordedDeadLetters();
        await using var delivery = new ScoredReviewDelivery([new PostgresScoredReviewDestination(dataSource)], FastRetries(),
            new DeliveryErrorStore(errors.Path, TimeProvider.System), deadLetters, TimeProvider.System, NullLogger<ScoredReviewDelivery>.Instance);

        var records = TestScoredReviews.Records(0, 5_000);
        long ticket = 0;
        foreach (var chunk in records.Chunk(500).Take(3))
        {
            ticket = await delivery.AppendAsync(chunk);
        }
        Assert.True(await delivery.FlushThroughAsync(ticket, TimeSpan.FromSeconds(60)));

        outage.Cut();
        foreach (var chunk in records.Chunk(500).Skip(3))
        {
            ticket = await delivery.AppendAsync(chunk);
        }
        Assert.False(await delivery.FlushThroughAsync(ticket, TimeSpan.FromSeconds(2)), "nothing can be delivered while the server is away");
        var during = Assert.Single(delivery.Status());
        Assert.Equal(3_500L, during.BufferedRecords);
        Assert.True(during.Failures >= 1 && during.Retries >= 1, $"failures {during.Failures}, retries {during.Retries}");

        outage.Restore();
        Assert.True(await delivery.FlushThroughAsync(ticket, TimeSpan.FromSeconds(60)));
        Assert.Equal(5_000L, await database.ScalarAsync<long>("SELECT count(DISTINCT review_id) FROM scored_reviews"));
        Assert.Equal(5_000L, await database.ScalarAsync<long>("SELECT count(*) FROM scored_reviews"));
        var after = Assert.Single(delivery.Status());
        Assert.Equal((5_000L, 0L, 0L), (after.Delivered, after.DeadLettered, after.BufferedRecords));
        Assert.Empty(deadLetters.Reports);
        Assert.Empty(Directory.GetFiles(errors.Path, "*", SearchOption.AllDirectories));
    }

    [PostgresFact]
    public async Task NotDeliverableWithinTheLimit_GoesToTheErrorsStoreAndTheDeadLetters_WithTheReason()
    {
        await using var database = await DatabaseAsync();
        await using var outage = TcpOutage.InFrontOf(database.ConnectionString, out var throughRelay);
        await using var dataSource = NpgsqlDataSource.Create(throughRelay);
        using var errors = new ScratchDirectory("revieworleans-delivery-errors-");
        var deadLetters = new RecordedDeadLetters();
        await using var delivery = new ScoredReviewDelivery([new PostgresScoredReviewDestination(dataSource)],
            FastRetries(deadLetterAfter: TimeSpan.FromMilliseconds(500)), new DeliveryErrorStore(errors.Path, TimeProvider.System), deadLetters,
            TimeProvider.System, NullLogger<ScoredReviewDelivery>.Instance);

        outage.Cut();
        var records = TestScoredReviews.Records(0, 100, prefix: "lost");
        var ticket = await delivery.AppendAsync(records);
        Assert.True(await delivery.FlushThroughAsync(ticket, TimeSpan.FromSeconds(60)), "handled: in the errors store");

        var status = Assert.Single(delivery.Status());
        Assert.Equal((0L, 100L, 0L), (status.Delivered, status.DeadLettered, status.BufferedRecords));
        var report = Assert.Single(deadLetters.Reports);
        Assert.Equal(("postgresql", "postgresql.undeliverable", 100), (report.Destination, report.Rule, report.Count));
        Assert.StartsWith("not taken by postgresql within Delivery:DeadLetterAfter (00:00:00.5000000): ", report.Reason);
        var file = Assert.Single(Directory.GetFiles(errors.Path, "*.jsonl.gz", SearchOption.AllDirectories));
        Assert.Equal(report.File, file);
        Assert.StartsWith("postgresql-", Path.GetFileName(file));
        var lines = TestScoredReviews.ReadLines(file);
        Assert.Equal(records.Select(r => r.ReviewId), lines.Select(l => ScoredReviewJson.Read(l).ReviewId));
        Assert.All(lines, l => Assert.Contains("\"error\":\"not taken by postgresql within", System.Text.Encoding.UTF8.GetString(l)));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM scored_reviews"));
    }

    /// <summary>The reports a delivery makes, as the platform's dead-letter store would receive them.</summary>
    internal sealed class RecordedDeadLetters : IDeliveryDeadLetters
    {
        public List<(string Destination, string Rule, int Count, string Reason, string File)> Reports { get; } = [];

        public Task ReportAsync(string destination, string rule, IReadOnlyList<ScoredReview> records, string reason, string errorsFile)
        {
            lock (Reports)
            {
                Reports.Add((destination, rule, records.Count, reason, errorsFile));
            }
            return Task.CompletedTask;
        }
    }
}
