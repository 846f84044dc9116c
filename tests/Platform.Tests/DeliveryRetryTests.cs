using System.Collections.Concurrent;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// Fails the first three calls of each method that adds things up (a category's MergePartials, the counting grain's
/// Add, a forest's Observe) at the caller: the first after its grain applied it, as a call that times out after its
/// receiver applied it does; the next two before they reach the grain.
/// </summary>
public sealed class TimeoutAfterApplyFilter : IOutgoingGrainCallFilter
{
    public const string Setting = "Test:TimeoutAfterApply";
    public const int FailuresPerMethod = 3;

    private static readonly ConcurrentDictionary<string, int> Calls = new();

    /// <summary>Methods that have had all their failures.</summary>
    public static int MethodsDone => Calls.Values.Count(n => n >= FailuresPerMethod);

    /// <summary>Methods that have had their applied-then-failed call.</summary>
    public static int MethodsStarted => Calls.Count;

    public static void Reset() => Calls.Clear();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        var declaring = context.InterfaceMethod?.DeclaringType;
        var name = context.InterfaceMethod?.Name;
        var adding = declaring == typeof(ICategoryGrain) && name == nameof(ICategoryGrain.MergePartials)
            || declaring == typeof(ICountingGrain) && name == nameof(ICountingGrain.Add)
            || declaring == typeof(IAnomalyGrain) && name == nameof(IAnomalyGrain.Observe);
        var call = adding ? Calls.AddOrUpdate($"{declaring!.Name}.{name}", 1, (_, n) => n + 1) : 0;
        if (call is > 1 and <= FailuresPerMethod)
        {
            throw new TimeoutException($"injected: call {call} of {declaring!.Name}.{name} failed before reaching its grain");
        }
        await context.Invoke();
        if (call == 1)
        {
            throw new TimeoutException($"injected: {declaring!.Name}.{name} was applied, its reply lost");
        }
    }
}

public sealed class DeliveryRetryTests : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = new("revieworleans-retry-");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Flush_CallsThatFailAfterOrBeforeBeingApplied_ReSentAndCountedOnce()
    {
        TimeoutAfterApplyFilter.Reset();
        await using var platform = await PlatformCluster.StartAsync(_directory.File("state.db"), "delivery-retry-tests",
            new Dictionary<string, string> { [TimeoutAfterApplyFilter.Setting] = "true" });
        var category = TestReviews.NewCategory("retry");
        var reviews = TestReviews.Generate(category, 120, seed: 81);

        var first = await platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews.Take(60)));
        Assert.Equal(60, first.AcceptedRecordCount);
        await Eventually.Get(async () =>
        {
            await platform.FlushAsync(category, StreamNames.AllCategories);
            return TimeoutAfterApplyFilter.MethodsStarted;
        }, n => n == 3, "a first delivery of each kind applied and then failed");

        // Newer reviews arrive while those deliveries are unconfirmed; their re-sends fail twice more.
        var second = await platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews.Skip(60)));
        Assert.Equal(60, second.AcceptedRecordCount);
        await Eventually.Get(async () =>
        {
            await platform.FlushAsync(category, StreamNames.AllCategories);
            return await Snapshot(platform, category);
        }, s => TimeoutAfterApplyFilter.MethodsDone == 3 && s.Category >= 120 && s.All >= 120 && s.Counted >= 120 && s.Points >= 120,
            "all injected failures, then 120 reviews in windows, counts and forests");
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
