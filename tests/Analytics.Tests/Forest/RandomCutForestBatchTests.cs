using ReviewOrleans.Analytics.Forest;

namespace ReviewOrleans.Analytics.Tests.Forest;

public sealed class RandomCutForestBatchTests
{
    public static TheoryData<int, int, int, int> Grid()
    {
        var grid = new TheoryData<int, int, int, int>();
        foreach (var seed in new[] { 1, 2, 3 })
        {
            foreach (var dims in new[] { 1, 4 })
            {
                foreach (var shingle in new[] { 1, 4 })
                {
                    grid.Add(dims, shingle, 2 + seed % 2, seed);
                }
            }
        }
        grid.Add(1, 3, 3, 7);
        grid.Add(2, 3, 4, 7);
        return grid;
    }

    [Theory]
    [MemberData(nameof(Grid))]
    public void ScoreAndUpdate_Batches_BitIdenticalToOneRecordAtATime(int dims, int shingle, int threads, int seed)
    {
        // 30 trees = 7 chunks of four plus 2 single trees, so both chunk kinds are exercised.
        var options = new RandomCutForestOptions { Dimensions = dims, ShingleSize = shingle, NumberOfTrees = 30, SampleSize = 32, OutputAfter = 5, Seed = seed };
        var data = RandomCutForestTests.Sine(900, dims, seed);
        var single = new RandomCutForest(options);
        var batched = new RandomCutForest(options);
        var expected = data.Select(p => single.ScoreAndUpdate(p)).ToArray();

        var actual = new List<double>();
        foreach (var size in new[] { 1, 7, 100, 300, 492 })
        {
            var start = actual.Count;
            var flat = data.Skip(start).Take(size).SelectMany(p => p).ToArray();
            var scores = new double[size];
            batched.ScoreAndUpdate(flat, scores, threads);
            actual.AddRange(scores);
        }
        Assert.Equal(expected, actual);
        Assert.Equal(single.ToBytes(), batched.ToBytes());
        Assert.Equal(single.PointsSeen, batched.PointsSeen);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    public void ScoreAndUpdate_Batches_BitIdenticalOnDiscreteValues(int dims, int threads)
    {
        // Star ratings repeat, so most records equal a sampled point (the seen-score path) and leaves carry mass; each
        // chunk's thread reuses its sums of repeated values until one of its trees changes.
        var options = new RandomCutForestOptions { Dimensions = dims, NumberOfTrees = 9, SampleSize = 64 };
        var random = new Random(7);
        var data = Enumerable.Range(0, 3_000).Select(_ => Enumerable.Range(0, dims).Select(_ => (double)random.Next(1, 6)).ToArray()).ToArray();
        var single = new RandomCutForest(options);
        var expected = data.Select(p => single.ScoreAndUpdate(p)).ToArray();

        var batched = new RandomCutForest(options);
        var actual = new double[data.Length];
        for (var start = 0; start < data.Length; start += 1_000)
        {
            batched.ScoreAndUpdate(data.Skip(start).Take(1_000).SelectMany(p => p).ToArray(), actual.AsSpan(start, 1_000), threads);
        }
        Assert.Equal(expected, actual);
        Assert.Equal(single.ToBytes(), batched.ToBytes());
    }

    [Theory]
    [InlineData(1, 1, 11)]
    [InlineData(1, 4, 12)]
    [InlineData(4, 1, 13)]
    [InlineData(4, 4, 14)]
    public void Attribute_OnSeveralThreads_IdenticalToOneThreadAndSumsToTheScore(int dims, int shingle, int seed)
    {
        var options = new RandomCutForestOptions { Dimensions = dims, ShingleSize = shingle, NumberOfTrees = 30, SampleSize = 64, Seed = seed };
        var forest = new RandomCutForest(options);
        var data = RandomCutForestTests.Sine(1_200, dims, seed);
        foreach (var point in data)
        {
            forest.Update(point);
        }
        double[] outlier = [.. Enumerable.Range(0, dims).Select(d => d == 0 ? 40.0 : 10.0)];
        foreach (var point in new[] { data[^1], outlier })
        {
            var one = forest.Attribute(point);
            foreach (var threads in new[] { 2, 3, 8 })
            {
                var many = forest.Attribute(point, threads);
                Assert.Equal(Enumerable.Range(0, dims).Select(one.Attribution), Enumerable.Range(0, dims).Select(many.Attribution));
                Assert.Equal(Enumerable.Range(0, dims).Select(one.Direction), Enumerable.Range(0, dims).Select(many.Direction));
            }
            // High and low parts over every dimension add up to the score (up to rounding).
            Assert.Equal(forest.Score(point), Enumerable.Range(0, dims).Sum(one.Attribution), 9);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    public void CopyFrom_ThenTheSameStream_SameScoresAndState(int dims, int shingle)
    {
        // Discrete values, so that both forests remember chunk sums of repeated queries: the copy must not reuse its
        // own from before it was overwritten.
        var options = new RandomCutForestOptions { Dimensions = dims, ShingleSize = shingle, NumberOfTrees = 13, SampleSize = 32, Seed = 5 };
        var random = new Random(8);
        double[] Point() => [.. Enumerable.Range(0, dims).Select(_ => (double)random.Next(1, 6))];
        var source = new RandomCutForest(options);
        var copy = new RandomCutForest(options);
        for (var i = 0; i < 700; i++)
        {
            source.ScoreAndUpdate(Point());
            copy.ScoreAndUpdate(Point());
        }

        copy.CopyFrom(source);
        Assert.Equal(source.ToBytes(), copy.ToBytes());
        Assert.Equal(source.PointsSeen, copy.PointsSeen);
        for (var i = 0; i < 500; i++)
        {
            var point = Point();
            Assert.Equal(source.ScoreAndUpdate(point), copy.ScoreAndUpdate(point));
        }
        Assert.Equal(source.ToBytes(), copy.ToBytes());
        Assert.Throws<ArgumentException>(() => copy.CopyFrom(new RandomCutForest(options with { Seed = 6 })));
    }

    [Fact]
    public void ScoreAndUpdate_BatchWithBadRecord_ThrowsNamingItAndAddsNothing()
    {
        var forest = new RandomCutForest(new RandomCutForestOptions { Dimensions = 2, NumberOfTrees = 8, SampleSize = 16 });
        var before = forest.ToBytes();
        var ex = Assert.Throws<ArgumentException>(() => forest.ScoreAndUpdate([1, 2, 3, double.NaN], new double[2]));
        Assert.Contains("Record 1", ex.Message);
        Assert.Contains("NaN", ex.Message);
        Assert.Equal(before, forest.ToBytes());
        Assert.Throws<ArgumentException>(() => forest.ScoreAndUpdate([1, 2, 3], new double[2]));
        Assert.Throws<ArgumentException>(() => forest.ScoreAndUpdate([1, 2, 3, 4], new double[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => forest.ScoreAndUpdate([1, 2], new double[1], 0));
    }
}
