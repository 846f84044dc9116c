using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Platform.Tests;

/// <summary>Event-time windows through the whole pipeline: reviews land in the window of their own event_time.</summary>
public sealed class EventTimeTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("revieworleans-eventtime-").FullName;
    private PlatformCluster _platform = null!;

    public async Task InitializeAsync() => _platform = await PlatformCluster.StartAsync(
        Path.Combine(_directory, "state.db"), "event-time-tests",
        new Dictionary<string, string> { ["Pipeline:WindowTime"] = "Event", ["Pipeline:AllowedLateness"] = "00:00:00" });

    public async Task DisposeAsync()
    {
        await _platform.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task EventTimeWindows_ReviewsFromThePast_AssignedByEventTimeClosedByWatermarkAndUpdatedWhenLate()
    {
        var category = TestReviews.NewCategory("event");
        var t0 = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds() / 1_000 * 1_000; // a 1 s window boundary
        var reviews = TestReviews.Generate(category, 7, seed: 51);
        long[] offsets = [100, 200, 900, 1_100, 1_500, 1_999, 5_000]; // windows t0: 3, t0+1s: 3, t0+5s: 1 (the watermark)
        for (var i = 0; i < reviews.Count; i++)
        {
            reviews[i].EventTimeMs = t0 + offsets[i];
        }

        // The six reviews of the first two windows are counted before the one that moves the watermark is sent:
        // partitions flush independently, and the watermark arriving first would close the windows early.
        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews.Take(6)));
        await Eventually.Get(async () =>
        {
            await _platform.FlushAsync();
            return await _platform.Gateway.GetCountsAsync(new GetCountsRequest());
        }, c => c.PerCategory.TryGetValue(category, out var n) && n == 6, "the first six reviews counted");
        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews.Skip(6)));
        var closed = await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 10 });
        }, r => r.Windows.Count == 2, "the two windows behind the watermark");

        Assert.Equal([(t0, 3L), (t0 + 1_000, 3L)], closed.Windows.Select(w => (w.WindowStartMs, w.Count)));
        Assert.All(closed.Windows, w => Assert.False(w.IsUpdate));

        var late = TestReviews.Generate(category, 1, seed: 52)[0];
        late.EventTimeMs = t0 + 300;
        await _platform.Gateway.PutReviewsAsync(TestReviews.Request([late]));
        var updated = await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 10 });
        }, r => r.Windows.Any(w => w.WindowStartMs == t0 && w.Count == 4), "the late review's window re-emitted");

        var first = updated.Windows.Single(w => w.WindowStartMs == t0);
        Assert.True(first.IsUpdate);
        Assert.Equal(2, updated.Windows.Count); // the window at t0+5s stays open: nothing passed its end
    }
}
