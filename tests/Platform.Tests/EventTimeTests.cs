using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Platform.Tests;

/// <summary>Event-time windows through the whole pipeline: reviews land in the window of their own event_time.</summary>
public sealed class EventTimeTests : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = new("revieworleans-eventtime-");
    private PlatformCluster _platform = null!;

    public async Task InitializeAsync() => _platform = await PlatformCluster.StartAsync(
        _directory.File("state.db"), "event-time-tests",
        new Dictionary<string, string> { ["Pipeline:WindowTime"] = "Event", ["Pipeline:AllowedLateness"] = "00:00:00" });

    public async Task DisposeAsync()
    {
        await _platform.DisposeAsync();
        _directory.Dispose();
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

        // Partitions flush independently and any partial moves the category's watermark, so each window's reviews
        // are settled in the category grain before a review that would close that window is sent: otherwise the
        // window could close early and then be re-emitted as an update.
        await SendAndSettle(category, reviews.Take(3), expectedTotal: 3); // window t0; watermark t0+900 closes nothing
        await SendAndSettle(category, reviews.Skip(3).Take(3), expectedTotal: 6); // window t0+1s; closes t0
        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews.Skip(6))); // t0+5s; closes t0+1s
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

    /// <summary>
    /// Sends <paramref name="reviews"/> and returns once the category grain has merged them: the counts show them,
    /// and one more flush of every partition completes, which waits for any flush in flight (counts and window
    /// pre-aggregates travel in the same flush, but as separate calls).
    /// </summary>
    private async Task SendAndSettle(string category, IEnumerable<Contracts.Reviews.ReviewMessage> reviews, long expectedTotal)
    {
        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews));
        await Eventually.Get(async () =>
        {
            await _platform.FlushAsync();
            return await _platform.Gateway.GetCountsAsync(new GetCountsRequest());
        }, c => c.PerCategory.TryGetValue(category, out var n) && n == expectedTotal, $"{expectedTotal} reviews of the category counted");
        await _platform.FlushAsync();
    }
}
