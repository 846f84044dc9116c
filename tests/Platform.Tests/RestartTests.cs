using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Platform.Tests;

/// <summary>State on the embedded SQLite store, and on PostgreSQL, outlives the whole cluster: history, counts and the RCF models.</summary>
public sealed class RestartTests : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = new("revieworleans-restart-");

    private string DatabasePath => _directory.File("state.db");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public Task ClusterRestart_OnEmbeddedStorage_CategoryHistoryCountsForestsAndPriorityQueueSurvive() =>
        RestartAndCompare("restart-tests", new Dictionary<string, string>());

    [PostgresFact]
    public Task ClusterRestart_OnPostgreSql_CategoryHistoryCountsForestsAndPriorityQueueSurvive() =>
        // A service id of its own: the database outlives the test run.
        RestartAndCompare($"restart-pg-{Guid.NewGuid():N}", new Dictionary<string, string>
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = PostgresFactAttribute.ConnectionString!,
        });

    private async Task RestartAndCompare(string serviceId, IReadOnlyDictionary<string, string> settings)
    {
        var category = TestReviews.NewCategory("restart");
        GetCategorySentimentResponse historyBefore;
        long pointsBefore;
        long categoryCountBefore;
        List<PriorityReviewRecord> queuedBefore;

        await using (var first = await PlatformCluster.StartAsync(DatabasePath, serviceId, settings))
        {
            await first.Gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 120, seed: 21)));
            historyBefore = await Eventually.Get(async () =>
            {
                await first.FlushAsync(category);
                return await first.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
            }, r => r.Windows.Sum(w => w.Count) == 120, "120 reviews in closed windows");
            pointsBefore = (await first.Gateway.GetAnomalyAsync(new GetAnomalyRequest())).PointsSeen;
            Assert.True(pointsBefore >= 120);
            categoryCountBefore = (await Eventually.Get(
                async () => await first.Gateway.GetCountsAsync(new GetCountsRequest()),
                c => c.PerCategory.GetValueOrDefault(category) == 120, "counts of the category")).PerCategory[category];

            // Applied in memory and saved on the queue's schedule or when it deactivates, with the marks they cover.
            var queue = first.Grains.GetGrain<IPriorityQueueGrain>(category + "-queue");
            await Task.WhenAll(Enumerable.Range(0, 8).Select(p => queue.Enqueue(new LogRange(30_000 + p, 0, 1),
                [new PriorityReviewRecord { ReviewId = $"q-{p}", Category = category + "-queue", PredictedStars = 1, ExpectedStars = 1.5, ReviewBody = "broke", ReceivedMs = p }])));
            queuedBefore = await queue.List(100);
            Assert.Equal(8, queuedBefore.Count);
        } // stopping the silos deactivates every grain, which saves what changed since its last write

        await using var second = await PlatformCluster.StartAsync(DatabasePath, serviceId, settings);
        var historyAfter = await second.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
        Assert.Equal(historyBefore.Windows, historyAfter.Windows);
        var anomaly = await second.Gateway.GetAnomalyAsync(new GetAnomalyRequest());
        Assert.Equal(pointsBefore, anomaly.PointsSeen); // restored, not cold-started
        var counts = await second.Gateway.GetCountsAsync(new GetCountsRequest());
        Assert.Equal(categoryCountBefore, counts.PerCategory[category]);
        Assert.Contains(category, (await second.Gateway.ListCategoriesAsync(new ListCategoriesRequest())).Categories);
        var queuedAfter = await second.Grains.GetGrain<IPriorityQueueGrain>(category + "-queue").List(100);
        Assert.Equal(queuedBefore.Select(r => r.ReviewId), queuedAfter.Select(r => r.ReviewId));
        var replayed = await second.Grains.GetGrain<IPriorityQueueGrain>(category + "-queue").Enqueue(new LogRange(30_000, 0, 1), []);
        Assert.Equal((true, 1L, 1L), (replayed.Accepted, replayed.AppliedThrough, replayed.DurableThrough)); // the marks were saved with it

        // The partitions rebuilt their recent ids from their logs: reviews re-sent after the restart are duplicates.
        await second.Gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 120, seed: 21).Take(30)));
        var resent = await Eventually.Get(async () => await second.Gateway.GetCountsAsync(new GetCountsRequest()),
            c => c.DuplicateReviews >= counts.DuplicateReviews + 30, "30 re-sent reviews counted as duplicates");
        Assert.Equal(counts.DuplicateReviews + 30, resent.DuplicateReviews);
        Assert.Equal(categoryCountBefore, resent.PerCategory[category]);
    }
}
