using Grpc.Net.Client;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Database;
using Xunit.Abstractions;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// The cluster profile as operators run it: silos and a standalone gateway as separate processes, finding each other
/// through the membership table of one PostgreSQL, the reviews on durable ADO.NET stream queues.
/// </summary>
[Collection(ProcessClusterCollection.Name)]
public sealed class ClusterTests(ITestOutputHelper log)
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private void Phase(string what) => log.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    [PostgresFact]
    public async Task TwoSilosAndAGateway_OnOnePostgreSql_ShareTheWorkAndCountEveryReviewOnce()
    {
        await using var database = await TestDatabase.CreateAsync("cluster");
        await PostgresSchema.ApplyAsync(database.ConnectionString); // what `reviewctl db init` runs
        var serviceId = $"cluster-{Guid.NewGuid():N}";
        Phase("database ready");
        await using var first = await SiloProcess.StartClusterSiloAsync(database.ConnectionString, serviceId);
        Phase("first silo healthy");
        await using var second = await SiloProcess.StartClusterSiloAsync(database.ConnectionString, serviceId);
        Phase("second silo healthy");
        await using var gatewayProcess = await SiloProcess.StartClusterGatewayAsync(database.ConnectionString, serviceId);
        Phase("gateway healthy");
        using var channel = GrpcChannel.ForAddress(gatewayProcess.GrpcAddress);
        var gateway = new ReviewGateway.ReviewGatewayClient(channel);

        var active = await database.ScalarAsync<long>("SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3");
        Assert.Equal(2, active); // 3: SiloStatus.Active

        var category = TestReviews.NewCategory("cluster");
        var reviews = TestReviews.Generate(category, 3_000, seed: 61);
        foreach (var chunk in reviews.Chunk(500))
        {
            Assert.Equal(chunk.Length, (await gateway.PutReviewsAsync(TestReviews.Request(chunk))).AcceptedRecordCount);
        }
        var counts = await Eventually.Get(async () => await gateway.GetCountsAsync(new GetCountsRequest()),
            c => c.PerCategory.GetValueOrDefault(category) >= 3_000, "3,000 reviews counted", TimeSpan.FromSeconds(90));
        Phase("3,000 counted");
        Assert.Equal(3_000, counts.PerCategory[category]);
        Assert.Equal(3_000, counts.TotalReviews);
        Assert.Equal(0, counts.DuplicateReviews);
        await Eventually.Get(async () => await gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 }),
            r => r.Windows.Sum(w => w.Count) == 3_000, "3,000 reviews in closed windows", TimeSpan.FromSeconds(60));
        // Delivered batches are confirmed: nothing is left in the durable queues once the partitions consumed them.
        await Eventually.Get(() => database.ScalarAsync<long>("SELECT count(*) FROM OrleansStreamMessage"), n => n == 0, "the stream queues drained");

        // The partitions spread over both silos, P/N ± 2 each, once the rebalancer has had a round (every 10 s);
        // reviewctl cluster reads the same answer.
        var layout = await Eventually.Get(async () => await gateway.GetClusterAsync(new GetClusterRequest()), l =>
        {
            var perSilo = l.Placements.Where(p => p.Kind == "partition").GroupBy(p => p.Silo).Select(g => g.Count()).ToList();
            return perSilo.Count == 2 && perSilo.All(n => Math.Abs(n - 8) <= 2);
        }, "the 16 partitions spread 8 ± 2 over the two silos", TimeSpan.FromSeconds(60));
        Phase("partitions spread");
        var activeSilos = layout.Silos.Where(s => s.Status == "Active").Select(s => s.Address).ToList();
        Assert.Equal(2, activeSilos.Count);
        Assert.All(layout.Placements, p => Assert.Contains(p.Silo, activeSilos));
        Assert.Equal(16, layout.Placements.Count(p => p.Kind == "partition"));
        // Each of the 8 stream queues is read by exactly one silo, and both silos read some.
        var queues = layout.Placements.Where(p => p.Kind == "stream-queue").ToList();
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), queues.Select(p => p.Key).Order());
        Assert.Equal(2, queues.Select(p => p.Silo).Distinct().Count());

        // A process that disagrees with the cluster on the partition count stops at start and says why.
        var (exitCode, output) = await SiloProcess.RunToExitAsync(["src", "Gateway", "ReviewOrleans.Gateway.dll"],
            ["--profile", "cluster", $"--Cluster:ServiceId={serviceId}", "--Pipeline:Partitions=8"],
            new Dictionary<string, string> { ["REVIEWORLEANS_POSTGRES"] = database.ConnectionString });
        Assert.Equal(1, exitCode);
        Assert.Contains("Pipeline:Partitions is 8 here, 16 in the cluster", output);

        // One silo leaves gracefully; the other takes over its partitions and queues and scores new reviews.
        Phase("mismatching gateway refused");
        await second.StopAsync(TimeSpan.FromSeconds(60));
        Phase("second silo stopped");
        var more = TestReviews.Generate(category + "-after", 500, seed: 62);
        Assert.Equal(500, (await gateway.PutReviewsAsync(TestReviews.Request(more))).AcceptedRecordCount);
        await Eventually.Get(async () => await gateway.GetCountsAsync(new GetCountsRequest()),
            c => c.PerCategory.GetValueOrDefault(category + "-after") >= 500, "500 reviews counted after a silo left", TimeSpan.FromSeconds(120));
        Phase("500 counted after the silo left");
        layout = await gateway.GetClusterAsync(new GetClusterRequest());
        Assert.Single(layout.Silos, s => s.Status == "Active");
        Assert.All(layout.Placements, p => Assert.Equal(layout.Silos.Single(s => s.Status == "Active").Address, p.Silo));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), layout.Placements.Where(p => p.Kind == "stream-queue").Select(p => p.Key).Order());
    }

    [PostgresFact]
    public async Task AStandaloneGatewaysWatch_OutlivesTheRestartOfEverySilo()
    {
        await using var database = await TestDatabase.CreateAsync("watch");
        await PostgresSchema.ApplyAsync(database.ConnectionString);
        var serviceId = $"watch-{Guid.NewGuid():N}";
        var silos = new[]
        {
            await SiloProcess.StartClusterSiloAsync(database.ConnectionString, serviceId),
            await SiloProcess.StartClusterSiloAsync(database.ConnectionString, serviceId),
        };
        try
        {
            await using var gatewayProcess = await SiloProcess.StartClusterGatewayAsync(database.ConnectionString, serviceId);
            using var channel = GrpcChannel.ForAddress(gatewayProcess.GrpcAddress);
            var gateway = new ReviewGateway.ReviewGatewayClient(channel);
            using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            using var watch = gateway.WatchMetrics(new WatchMetricsRequest(), cancellationToken: cancel.Token);
            await watch.ResponseHeadersAsync;
            var windows = watch.ResponseStream;

            await SendUntilAWindowArrives(gateway, windows, TestReviews.NewCategory("before"), cancel.Token);
            Phase("a window arrived on the watch");

            // Each silo in turn is killed and started again on its address, so that whichever held the stream's
            // PubSub state and queues has gone; PubSub lives in PostgreSQL in the cluster profile.
            for (var i = 0; i < silos.Length; i++)
            {
                var port = silos[i].SiloPort;
                await silos[i].KillAsync();
                await silos[i].DisposeAsync();
                silos[i] = await SiloProcess.StartClusterSiloAsync(database.ConnectionString, serviceId, port);
                Phase($"silo {i + 1} killed and started again");
            }

            var after = TestReviews.NewCategory("after");
            try
            {
                await SendUntilAWindowArrives(gateway, windows, after, cancel.Token);
            }
            catch (Exception) when (cancel.IsCancellationRequested)
            {
                // Tell a watch that went silent from a pipeline that did.
                var history = await gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = after, LastWindows = 100 });
                var counts = await gateway.GetCountsAsync(new GetCountsRequest());
                Assert.Fail($"no window of {after} on the watch; its closed windows hold {history.Windows.Sum(w => w.Count)} reviews, counts {counts.PerCategory.GetValueOrDefault(after)}\n" +
                    $"gateway output:\n{gatewayProcess.Output[Math.Max(0, gatewayProcess.Output.Length - 4000)..]}");
            }
            Phase("a window arrived on the same watch after both restarts" +
                (gatewayProcess.Output.Contains("subscribed again", StringComparison.Ordinal) ? " (the gateway subscribed again)" : ""));
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Sends reviews of <paramref name="category"/> every few seconds until the watch delivers one of its windows:
    /// right after a silo was killed, a batch can be lost (docs/design.md), which is not what this test is about.
    /// </summary>
    private static async Task SendUntilAWindowArrives(ReviewGateway.ReviewGatewayClient gateway,
        Grpc.Core.IAsyncStreamReader<WindowMetrics> windows, string category, CancellationToken cancellationToken)
    {
        using var stopSending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sending = Task.Run(async () =>
        {
            for (var seed = 0; !stopSending.IsCancellationRequested; seed++)
            {
                try
                {
                    await gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 40, seed)), cancellationToken: stopSending.Token);
                    await Task.Delay(TimeSpan.FromSeconds(3), stopSending.Token);
                }
                catch (Exception) when (stopSending.IsCancellationRequested)
                {
                    return;
                }
                catch (Grpc.Core.RpcException)
                {
                    // The gateway may refuse while the cluster recovers; the next round tries again.
                }
            }
        }, CancellationToken.None);
        try
        {
            while (await windows.MoveNext(cancellationToken))
            {
                if (windows.Current.Category == category && windows.Current.Count > 0)
                {
                    return;
                }
            }
            throw new InvalidOperationException("the watch ended");
        }
        finally
        {
            await stopSending.CancelAsync();
            await sending;
        }
    }
}

/// <summary>
/// Tests that run several silo processes at once: alone, after the parallel ones, so that on a 2-core machine their
/// membership probes and start-up are not starved by other test classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusterCollection
{
    public const string Name = "process-cluster";
}
