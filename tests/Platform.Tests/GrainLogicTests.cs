using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Grains;

namespace ReviewOrleans.Platform.Tests;

/// <summary>The plain logic the grains compose, without a cluster.</summary>
public sealed class GrainLogicTests
{
    private static ReviewMessage Review(string id, string category, string body, int? stars = null) =>
        new() { ReviewId = id, ProductCategory = category, ReviewBody = body, StarRating = stars, Source = "twitter" };

    [Fact]
    public void Extract_DefaultProfile_SchemaAndValueFeaturesInNamedOrder()
    {
        var features = new AnomalyFeatures(AnomalyFeatures.DefaultProfile, []);

        var first = features.Extract(Review("R1", "Books", "Good book!!", stars: 4), predictedStars: 4);
        var again = features.Extract(Review("R2", "Books", "€€€€", stars: 4), predictedStars: 2);

        Assert.Equal(["predicted_stars", "log_body_length", "missing_fields", "unknown_category", "non_text_ratio"], features.Names);
        Assert.Equal(4, first[0]);
        Assert.Equal(Math.Log(1 + 11), first[1], 12);
        Assert.Equal(ReviewMessage.OptionalFieldCount - 2, first[2]); // star_rating and source are present
        Assert.Equal(1, first[3]); // first sighting of the category
        Assert.Equal(0, first[4]); // letters, a space and punctuation are text
        Assert.Equal(0, again[3]);
        Assert.Equal(1, again[4]); // currency symbols are not text
    }

    [Fact]
    public void Extract_KnownCategoriesGiven_UnknownMeansNotInTheList()
    {
        var features = new AnomalyFeatures(AnomalyFeatures.DefaultProfile, ["Books"]);
        Assert.Equal(0, features.Extract(Review("R1", "Books", "x"), 3)[3]);
        Assert.Equal(1, features.Extract(Review("R2", "Toys", "x"), 3)[3]);
        Assert.Equal(1, features.Extract(Review("R3", "Toys", "x"), 3)[3]); // a list does not learn
    }

    [Fact]
    public void Extract_KdaProfile_StarRatingElsePredictedStars()
    {
        var features = new AnomalyFeatures(AnomalyFeatures.KdaProfile, []);
        Assert.Equal([2.0], features.Extract(Review("R1", "Books", "x", stars: 2), predictedStars: 5));
        Assert.Equal([5.0], features.Extract(Review("R2", "Books", "x"), predictedStars: 5));
        Assert.Equal(["star_rating"], features.Names);
    }

    [Fact]
    public void Constructor_UnknownProfile_ThrowsNamingProfiles()
    {
        var ex = Assert.Throws<ArgumentException>(() => new AnomalyFeatures("random", []));
        Assert.Contains("default, kda", ex.Message);
    }

    [Fact]
    public void Fold_LogRowsInOrder_SumsCountsAndKeepsOlderItemsFirst()
    {
        var older = new PartitionBuffers(1_000);
        var newer = new PartitionBuffers(1_000);
        older.Add(Review("R1", "Books", "a"), 1, 4, 4.2, 100);
        older.Observations.Add(new Contracts.Grains.AnomalyObservation { ReviewId = "R1" });
        older.Counts.Duplicates++;
        newer.Add(Review("R2", "Books", "b"), 2, 2, 1.8, 200);
        newer.Observations.Add(new Contracts.Grains.AnomalyObservation { ReviewId = "R2" });
        newer.AddPriority(Review("R2", "Books", "b"), 2, 1.8, 200);

        var range = new PartitionBuffers(1_000);
        range.Fold(older.ToEntry());
        range.Fold(newer.ToEntry());

        Assert.Equal(2, range.Counts.Reviews);
        Assert.Equal(1, range.Counts.Duplicates);
        Assert.Equal(2, range.Counts.PerCategory["Books"]);
        Assert.Equal(["R1", "R2"], range.Observations.Select(o => o.ReviewId));
        var partial = Assert.Single(range.ToEntry().Partials, p => p.Category == "Books");
        Assert.Equal((2L, 6.0), (partial.Count, partial.SumExpectedStars));
        Assert.Equal(2, Analytics.Counting.DistinctCounter.FromBytes(range.ToEntry().Counts.DistinctPerWindow[0]).Estimate());
        Assert.Equal(
            [Receiver.Category("Books"), Receiver.Category(Contracts.Grains.StreamNames.AllCategories), Receiver.Counts,
             Receiver.Anomaly(3), Receiver.Priority("Books"), Receiver.Directory],
            range.Receivers(anomalyShard: 3));
    }

    [Theory]
    [InlineData(16, 2, 2)]
    [InlineData(16, 32, 16)]
    [InlineData(1, 2, 1)]
    [InlineData(5, 3, 3)]
    public void AnomalyShardOf_EveryPartitionFeedsOneShardInRangeAndEveryShardIsFed(int partitions, int shards, int effective)
    {
        var options = new PipelineOptions { Partitions = partitions, AnomalyShards = shards };

        var fed = Enumerable.Range(0, partitions).Select(options.AnomalyShardOf).ToList();

        Assert.Equal(effective, options.EffectiveAnomalyShards);
        Assert.All(fed, shard => Assert.InRange(shard, 0, effective - 1));
        Assert.Equal(Enumerable.Range(0, effective), fed.Distinct().Order());
        // Partitions spread evenly: shard loads differ by at most one partition.
        var loads = fed.GroupBy(shard => shard).Select(g => g.Count()).ToList();
        Assert.True(loads.Max() - loads.Min() <= 1, $"uneven shard loads: {string.Join(", ", loads)}");
    }

    [Fact]
    public void BoundedKeyedList_DuplicateKeysIgnored_OldestTrimmedAndTheirKeysFreed()
    {
        var list = new BoundedKeyedList<(string Id, int Version), string>(3, static x => x.Id);
        list.Load([("a", 0)]);

        Assert.False(list.TryAdd(("a", 1))); // a re-send
        Assert.True(list.TryAdd(("b", 0)));
        Assert.True(list.TryAdd(("c", 0)));
        Assert.True(list.TryAdd(("d", 0)));
        Assert.Equal(1, list.TrimOldest());
        Assert.Equal(["b", "c", "d"], list.Items.Select(x => x.Id));
        Assert.True(list.TryAdd(("a", 2))); // dropped, so new again
        Assert.True(list.Remove("c"));
        Assert.False(list.Remove("c"));
        Assert.Equal(0, list.TrimOldest());
        Assert.Equal([("b", 0), ("d", 0), ("a", 2)], list.Items);
    }
}
