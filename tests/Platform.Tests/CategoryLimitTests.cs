using Grpc.Core;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using Xunit.Abstractions;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// A producer that sends ever-new product categories: past Pipeline:MaxCategories its reviews are refused with a
/// named rule, idle category grains deactivate, and the cluster goes on serving the categories it has.
/// </summary>
public sealed class CategoryLimitTests(ITestOutputHelper output)
{
    private const int MaxCategories = 2_000;

    [Fact]
    public async Task HundredThousandDistinctCategories_CappedRefusedWithRule_IdleGrainsDeactivate_ClusterKeepsServing()
    {
        using var directory = new ScratchDirectory("revieworleans-category-limit-");
        await using var platform = await PlatformCluster.StartAsync(directory.File("state.db"), $"category-limit-{Guid.NewGuid():N}",
            new Dictionary<string, string>
            {
                ["Pipeline:MaxCategories"] = $"{MaxCategories}",
                ["Pipeline:CategoryIdleTimeout"] = "00:00:03",
            });
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        var reviews = TestReviews.Generate("unused", 100_000, seed: 95);
        for (var i = 0; i < reviews.Count; i++)
        {
            reviews[i].ProductCategory = $"flood-{i:D6}";
        }
        long accepted = 0;
        foreach (var chunk in reviews.Chunk(10_000))
        {
            accepted += (await platform.Gateway.PutReviewsAsync(TestReviews.Request(chunk))).AcceptedRecordCount;
        }
        Assert.Equal(100_000, accepted); // taken by the gateway; the partitions hold the directory's count

        var counts = await Eventually.Get(async () =>
        {
            await platform.FlushAsync();
            return await platform.Gateway.GetCountsAsync(new GetCountsRequest());
        }, c => c.TotalReviews + c.RejectedReviews == 100_000, "every review counted or refused", TimeSpan.FromSeconds(90));
        Assert.Equal(MaxCategories, counts.TotalReviews);
        Assert.Equal(100_000 - MaxCategories, counts.RejectedReviews);
        var admitted = (await platform.Gateway.ListCategoriesAsync(new ListCategoriesRequest())).Categories;
        Assert.Equal(MaxCategories, admitted.Count);
        var deadLetters = await platform.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 5 });
        Assert.All(deadLetters.DeadLetters, d =>
        {
            Assert.Equal("product_category", d.Field);
            Assert.Equal("limit_reached", d.Rule);
            Assert.StartsWith($"the platform takes at most {MaxCategories:N0} distinct product categories (Pipeline:MaxCategories), and 'flood-", d.Message);
        });
        var heapFlooded = GC.GetTotalMemory(forceFullCollection: true);

        var management = platform.Grains.GetGrain<IManagementGrain>(0);
        // Statistics name a grain class as "Namespace.Class,Assembly".
        async Task<int> Activations(string grainClass) => (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.StartsWith($"ReviewOrleans.Grains.{grainClass},", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        // Never beyond the admitted categories. Some or all may be idle already: on a slow machine the flood outlasts
        // the 3 s idle timeout, so no lower bound here; the deactivation is shown below on grains activated on purpose.
        var categoryGrains = await Activations("CategoryGrain");
        Assert.InRange(categoryGrains, 0, MaxCategories + 1);
        Assert.InRange(await Activations("PriorityQueueGrain"), 0, MaxCategories);
        await Eventually.Get(() => Activations("CategoryGrain"), n => n <= 5, "idle category grains deactivated", TimeSpan.FromSeconds(60));
        await Eventually.Get(() => Activations("PriorityQueueGrain"), n => n <= 5, "idle priority queues deactivated", TimeSpan.FromSeconds(60));
        var heapIdle = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"category grains once counted {categoryGrains:N0}; managed heap of the test process (2 silos, client, gateway): " +
            $"before {heapBefore / 1e6:F0} MB, after the flood {heapFlooded / 1e6:F0} MB, after idle deactivation {heapIdle / 1e6:F0} MB");

        // Grains known to be active (a call just answered through them) go idle and deactivate.
        var touched = admitted.Take(20).ToList();
        foreach (var name in touched)
        {
            await platform.Gateway.ListPriorityReviewsAsync(new ListPriorityReviewsRequest { Category = name });
            await platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = name, LastWindows = 1 });
        }
        await Eventually.Get(() => Activations("PriorityQueueGrain"), n => n == 0, "the 20 priority queues just called deactivated", TimeSpan.FromSeconds(60));
        await Eventually.Get(() => Activations("CategoryGrain"), n => n == 0, "the 20 category grains just called deactivated", TimeSpan.FromSeconds(60));

        // An admitted category still takes reviews (its grain activates again, with its history); a new one does not.
        // Which categories were admitted depends on how the partitions' calls interleaved at the directory.
        var category = admitted[7];
        var more = TestReviews.Generate("unused", 2, seed: 96);
        more[0].ProductCategory = category;
        more[1].ProductCategory = "flood-new";
        await platform.Gateway.PutReviewsAsync(TestReviews.Request(more));
        var history = await Eventually.Get(async () =>
        {
            await platform.FlushAsync(category);
            return await platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
        }, r => r.Windows.Sum(w => w.Count) + r.LateReviews == 2, $"the second review of {category} counted");
        Assert.Equal(2, history.Windows.Sum(w => w.Count) + history.LateReviews);
        var refused = await Eventually.Get(() => platform.Gateway.GetCountsAsync(new GetCountsRequest()).ResponseAsync,
            c => c.RejectedReviews == 100_000 - MaxCategories + 1, "the review of a new category refused");
        Assert.Equal(MaxCategories + 1, refused.TotalReviews);

        // Priority calls for a category no review carried answer NotFound instead of activating a grain for it.
        var list = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Gateway.ListPriorityReviewsAsync(new ListPriorityReviewsRequest { Category = "flood-new" }));
        Assert.Equal(StatusCode.NotFound, list.StatusCode);
        Assert.Equal("category: no review has carried category 'flood-new' (ListCategories names those that have)", list.Status.Detail);
        var ack = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Gateway.AcknowledgeReviewAsync(new AcknowledgeReviewRequest { Category = "never-seen", ReviewId = "r1" }));
        Assert.Equal(StatusCode.NotFound, ack.StatusCode);
    }
}
