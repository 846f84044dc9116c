using ReviewOrleans.Analytics.Forest;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Grains;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// A forest that learns a delivery in one batch, on one thread or several (<c>Pipeline:AnomalyThreads</c>), scores,
/// grades and explains exactly as one point at a time.
/// </summary>
public sealed class AnomalyThreadsTests : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = new("revieworleans-anomaly-threads-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Observe_InBatches_SameScoresAlertsAndAttributionsAsOnePointAtATime(int threads)
    {
        await using var platform = await PlatformCluster.StartAsync(_directory.File($"state-{threads}.db"), $"anomaly-threads-{threads}",
            new Dictionary<string, string> { ["Pipeline:AnomalyThreads"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        const long Shard = 3_000; // no partition feeds this shard
        var forest = platform.Grains.GetGrain<IAnomalyGrain>(Shard);

        // Star-rating-like features with a few outliers inside large deliveries (the batch path), then small ones
        // (one by one), all on one forest.
        var random = new Random(17);
        var observations = Enumerable.Range(0, 3_000).Select(i => new AnomalyObservation
        {
            ReviewId = $"p-{i}",
            Category = "Kitchen",
            TimeMs = i,
            Features = i % 700 == 650
                ? [1, 1, 6, 3, 0.9]
                : [random.Next(3, 6), random.Next(1, 6), 0, 0, random.NextDouble() * 0.2],
        }).ToList();
        var deliveries = new List<List<AnomalyObservation>>();
        for (var start = 0; start < 2_400; start += 600)
        {
            deliveries.Add(observations.GetRange(start, 600));
        }
        for (var start = 2_400; start < observations.Count; start += 40)
        {
            deliveries.Add(observations.GetRange(start, 40));
        }
        var sequence = 0;
        foreach (var delivery in deliveries)
        {
            var receipt = await forest.Observe(new LogRange(9_000, sequence, sequence + 1), delivery);
            Assert.True(receipt.Accepted);
            sequence++;
        }

        // What one thread computes, point by point: score, grade, attribute a rising grade, learn.
        var pipeline = new PipelineOptions();
        var expectedForest = new RandomCutForest(pipeline.ForestOptions(5, seed: 42 + Shard));
        var grader = new AnomalyGrader();
        var expectedAlerts = new List<(string ReviewId, double Score, double Grade, double[] Attribution)>();
        var lastGrade = 0.0;
        var lastScore = 0.0;
        foreach (var observation in observations)
        {
            var score = expectedForest.Score(observation.Features);
            var grade = grader.Process(score);
            if (grade.IsAnomaly && lastGrade <= 0)
            {
                var attribution = expectedForest.Attribute(observation.Features);
                expectedAlerts.Add((observation.ReviewId, score, grade.Grade, [.. Enumerable.Range(0, 5).Select(attribution.Attribution)]));
            }
            expectedForest.Update(observation.Features);
            lastGrade = grade.Grade;
            lastScore = score;
        }

        var status = await forest.GetStatus(AnomalyGrain.AlertsKept);
        Assert.Equal(observations.Count, status.PointsSeen);
        Assert.Equal((lastScore, lastGrade), (status.Score, status.Grade));
        Assert.True(expectedAlerts.Count >= 2, $"the data raised {expectedAlerts.Count} alert(s); the test needs some inside large deliveries");
        Assert.Equal(expectedAlerts.Select(a => (a.ReviewId, a.Score, a.Grade)), status.RecentAlerts.Select(a => (a.ReviewId, a.Score, a.Grade)));
        for (var i = 0; i < expectedAlerts.Count; i++)
        {
            Assert.Equal(expectedAlerts[i].Attribution, status.RecentAlerts[i].Attribution.Select(f => f.Attribution));
        }
    }
}
