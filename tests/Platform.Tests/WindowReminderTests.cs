using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// With a reminder service (the cluster profile's, here Orleans' in-memory one), a category grain's open windows are
/// closed by its durable reminder when nothing else wakes it: the grain timer that normally closes them is set to an
/// hour here, so only the reminder can.
/// </summary>
public sealed class WindowReminderTests : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = new("revieworleans-reminder-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task OpenWindows_WithoutTrafficOrTimer_AreClosedByTheReminder()
    {
        await using var platform = await PlatformCluster.StartAsync(_directory.File("state.db"), $"reminder-{Guid.NewGuid():N}", new Dictionary<string, string>
        {
            ["Reminders:Provider"] = "memory",
            ["Reminders:MinimumPeriod"] = "00:00:01",
            ["Pipeline:WindowReminderPeriod"] = "00:00:02",
            ["Pipeline:WindowTick"] = "01:00:00",
        });
        var category = TestReviews.NewCategory("reminder");
        await platform.Gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 40, seed: 71)));
        await platform.FlushAsync(); // partitions only: no category Tick()

        var history = await Eventually.Get(
            async () => await platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 100 }),
            r => r.Windows.Sum(w => w.Count) == 40, "the 40 reviews' windows closed by the reminder", TimeSpan.FromSeconds(30));
        Assert.Equal(40, history.Windows.Sum(w => w.Count));
    }
}
