using System.Collections.Concurrent;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// Lets the first call of each method that adds things up (a category's MergePartials, the counting grain's Add, a
/// forest's Observe) reach its grain and be applied, then fails it at the caller, as a call that times out after its
/// receiver applied it does.
/// </summary>
public sealed class TimeoutAfterApplyFilter : IOutgoingGrainCallFilter
{
    public const string Setting = "Test:TimeoutAfterApply";

    private static readonly ConcurrentDictionary<string, bool> Failed = new();

    public static IReadOnlyCollection<string> FailedMethods => [.. Failed.Keys];

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        await context.Invoke();
        var declaring = context.InterfaceMethod?.DeclaringType;
        var name = context.InterfaceMethod?.Name;
        var method = declaring == typeof(ICategoryGrain) && name == nameof(ICategoryGrain.MergePartials)
            || declaring == typeof(ICountingGrain) && name == nameof(ICountingGrain.Add)
            || declaring == typeof(IAnomalyGrain) && name == nameof(IAnomalyGrain.Observe)
            ? $"{declaring!.Name}.{name}"
            : null;
        if (method is not null && Failed.TryAdd(method, true))
        {
            throw new TimeoutException($"injected: {method} was applied, its reply lost");
        }
    }
}

public sealed class DeliveryRetryTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("revieworleans-retry-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite's pooled connections may still hold the file briefly; the temp folder is disposable anyway.
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Flush_CallsThatFailAfterBeingApplied_ReSentAndCountedOnce()
    {
        await using var platform = await PlatformCluster.StartAsync(Path.Combine(_directory, "state.db"), "delivery-retry-tests",
            new Dictionary<string, string> { [TimeoutAfterApplyFilter.Setting] = "true" });
        var category = TestReviews.NewCategory("retry");
        var reviews = TestReviews.Generate(category, 120, seed: 81);

        var response = await platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews));
        Assert.Equal(120, response.AcceptedRecordCount);

        // Until each kind of receiver has had its first call fail after applying it, and the re-sent deliveries are in.
        await Eventually.Get(async () =>
        {
            await platform.FlushAsync(category, StreamNames.AllCategories);
            return await Snapshot(platform, category);
        }, s => TimeoutAfterApplyFilter.FailedMethods.Count == 3 && s.Category >= 120 && s.All >= 120 && s.Counted >= 120 && s.Points >= 120,
            "three failed deliveries, then 120 reviews in windows, counts and forests");
        await platform.FlushAsync(category, StreamNames.AllCategories);

        var settled = await Snapshot(platform, category);
        Assert.Equal((120L, 120L, 120L, 120L, 120L), (settled.Category, settled.All, settled.Counted, settled.PerCategory, settled.Points));
    }

    private static async Task<(long Category, long All, long Counted, long PerCategory, long Points)> Snapshot(PlatformCluster platform, string category)
    {
        async Task<long> WindowTotal(string name) =>
            (await platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = name, LastWindows = 1000 }))
            .Windows.Sum(w => w.Count);
        var counts = await platform.Gateway.GetCountsAsync(new GetCountsRequest());
        var anomaly = await platform.Gateway.GetAnomalyAsync(new GetAnomalyRequest());
        return (await WindowTotal(category), await WindowTotal(StreamNames.AllCategories), counts.TotalReviews,
            counts.PerCategory.GetValueOrDefault(category), anomaly.PointsSeen);
    }
}
