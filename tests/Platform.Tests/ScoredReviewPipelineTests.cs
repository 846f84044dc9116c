using Grpc.Core;
using Npgsql;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Delivery;
using ReviewOrleans.Sentiment;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// Scored reviews leave the pipeline: every review sent through the gateway arrives once in PostgreSQL's
/// scored_reviews table and in the gzip JSON-lines files, with its sentiment as the model scores it and the anomaly
/// score of its shard; the gateway answers queries over the table and reports the deliveries, and reviewctl too.
/// </summary>
public sealed class ScoredReviewPipelineTests
{
    [PostgresFact]
    public async Task EveryReviewDeliveredOnce_ToPostgresAndFiles_QueriedThroughTheGateway()
    {
        await using var database = await TestDatabase.CreateAsync("scored_pipeline");
        using var directory = new ScratchDirectory("revieworleans-scored-pipeline-");
        var files = Path.Combine(directory.Path, "scored");
        var reviews = TestReviews.Generate(TestReviews.NewCategory("scored"), 2_000, seed: 71);
        await using (var platform = await PlatformCluster.StartAsync(directory.File("state.db"), $"scored-{Guid.NewGuid():N}",
            new Dictionary<string, string>
            {
                ["Delivery:PostgreSQL"] = "true",
                ["Delivery:PostgresConnectionString"] = database.ConnectionString,
                ["Delivery:FilesPath"] = files,
                ["Delivery:BatchAge"] = "00:00:00.500",
            }))
        {
            foreach (var chunk in reviews.Chunk(500))
            {
                Assert.Equal(chunk.Length, (await platform.Gateway.PutReviewsAsync(TestReviews.Request(chunk))).AcceptedRecordCount);
            }
            await Eventually.Get(async () =>
            {
                await platform.FlushAsync();
                return await database.ScalarAsync<long>("SELECT count(*) FROM scored_reviews");
            }, n => n == reviews.Count, "every review in scored_reviews", TimeSpan.FromSeconds(90));

            await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
            var rows = (await new ScoredReviewQuery(dataSource).RunAsync(new ScoredReviewFilter(null, null, null, 0, null, 10_000)))
                .ToDictionary(r => r.ReviewId);
            Assert.Equal(reviews.Count, rows.Count);
            var expected = new SentimentResult[reviews.Count];
            TestReviews.Model.Score([.. reviews.Select(r => r.ReviewBody)], expected);
            for (var i = 0; i < reviews.Count; i++)
            {
                var (review, row) = (reviews[i], rows[reviews[i].ReviewId]);
                Assert.Equal((review.ProductCategory, review.SourceOrUnknown, review.StarRating, review.EventTimeMs),
                    (row.Category, row.Source, row.StarRating, row.EventTimeMs));
                Assert.Equal(expected[i].PredictedStars, row.PredictedStars);
                Assert.Equal(expected[i].ExpectedStars, row.ExpectedStars, 1e-5f);
                Assert.Equal(1.0, row.Probabilities.Sum(), 1e-5);
                Assert.Equal(TestReviews.Model.Model.Version, row.ModelVersion);
                Assert.True(row.AnomalyScore is >= 0 and < 100, $"{row.ReviewId}: anomaly score {row.AnomalyScore}");
            }
            // A forest scores 0 until it holds a quarter of its sample (64 of 256 points), as the AWS library does: only
            // the shard's first reviews.
            Assert.InRange(rows.Values.Count(r => r.AnomalyScore == 0), 1, 64);

            // Through the gateway: the same rows, filtered as an analyst would.
            var category = reviews[0].ProductCategory;
            var oneStar = await platform.Gateway.QueryScoredReviewsAsync(new QueryScoredReviewsRequest { Category = category, StarRating = 1, Limit = 10_000 });
            Assert.Equal(reviews.Count(r => r.StarRating == 1), oneStar.Reviews.Count);
            Assert.All(oneStar.Reviews, r => Assert.Equal((category, 1), (r.Category, r.StarRating)));
            var bad = await Assert.ThrowsAsync<RpcException>(async () =>
                await platform.Gateway.QueryScoredReviewsAsync(new QueryScoredReviewsRequest { StarRating = 6 }));
            Assert.Equal((StatusCode.InvalidArgument, "star_rating: must be 1..5 (0: any), got 6"), (bad.StatusCode, bad.Status.Detail));

            var deliveries = await platform.Gateway.GetDeliveriesAsync(new GetDeliveriesRequest());
            Assert.Equal(reviews.Count, deliveries.Destinations.Where(d => d.Destination == "postgresql").Sum(d => d.Delivered));
            Assert.Equal(reviews.Count, deliveries.Destinations.Where(d => d.Destination == "files").Sum(d => d.Delivered));
            Assert.All(deliveries.Destinations, d => Assert.Equal((0L, 0L), (d.DeadLettered, d.Failures)));

            var (exitCode, output, error) = await ReviewCtlTests.RunReviewCtl("query", "scored", "--category", category, "--stars", "1", "--since", "1d", "--limit", "10000",
                "--json", "--gateway", platform.GatewayAddress.ToString());
            Assert.True(exitCode == 0, error);
            Assert.Equal(oneStar.Reviews.Count, QueryScoredReviewsResponse.Parser.WithDiscardUnknownFields(true)
                .ParseJson(output).Reviews.Count);
            (exitCode, output, error) = await ReviewCtlTests.RunReviewCtl("deliveries", "--gateway", platform.GatewayAddress.ToString());
            Assert.True(exitCode == 0, error);
            Assert.Contains("postgresql", output);
            Assert.Contains("files", output);
        }

        // Stopped: the silos finished their files; every review is in them once.
        var written = Directory.GetFiles(files, "*", SearchOption.AllDirectories);
        Assert.All(written, f => Assert.EndsWith(".jsonl.gz", f));
        var delivered = written.SelectMany(TestScoredReviews.ReadRecords).ToList();
        Assert.Equal(reviews.Select(r => r.ReviewId).Order(StringComparer.Ordinal), delivered.Select(r => r.ReviewId).Order(StringComparer.Ordinal));
    }
}
