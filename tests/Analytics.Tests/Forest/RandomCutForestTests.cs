using System.Security.Cryptography;
using ReviewOrleans.Analytics.Forest;

namespace ReviewOrleans.Analytics.Tests.Forest;

public sealed class RandomCutForestTests
{
    private static readonly RandomCutForestOptions Small = new() { NumberOfTrees = 30, SampleSize = 64, Seed = 42 };

    /// <summary>The anchors' kind of series: 10 + 5·sin(2π(t/50 + j/7)) + N(0, 0.5²), +25 on column 0 every 500 rows.</summary>
    internal static double[][] Sine(int count, int dims, int seed = 7)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(t =>
        {
            var row = new double[dims];
            for (var j = 0; j < dims; j++)
            {
                var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) * 0.5;
                row[j] = 10 + 5 * Math.Sin(2 * Math.PI * (t / 50.0 + j / 7.0)) + noise;
            }
            if (t > 0 && t % 500 == 0)
            {
                row[0] += 25;
            }
            return row;
        }).ToArray();
    }

    [Fact]
    public void ToBytes_RestoredMidStream_ContinuesWithIdenticalScoresAndBytes()
    {
        var data = Sine(1_500, 2);
        var uninterrupted = new RandomCutForest(Small with { Dimensions = 2 });
        var interrupted = new RandomCutForest(Small with { Dimensions = 2 });
        for (var i = 0; i < 700; i++)
        {
            uninterrupted.ScoreAndUpdate(data[i]);
            interrupted.ScoreAndUpdate(data[i]);
        }
        var saved = interrupted.ToBytes();
        var restored = RandomCutForest.FromBytes(saved);
        Assert.Equal(saved, restored.ToBytes());
        Assert.Equal(interrupted.PointsSeen, restored.PointsSeen);
        Assert.Equal(interrupted.Options, restored.Options);

        for (var i = 700; i < data.Length; i++)
        {
            // Bit-for-bit: exact equality of doubles, not a tolerance.
            Assert.Equal(uninterrupted.ScoreAndUpdate(data[i]), restored.ScoreAndUpdate(data[i]));
        }
        Assert.Equal(uninterrupted.ToBytes(), restored.ToBytes());
    }

    [Fact]
    public void ToBytes_ShingledForestBeforeShingleIsFull_RoundTrips()
    {
        var options = Small with { ShingleSize = 4, Dimensions = 1 };
        var a = new RandomCutForest(options);
        a.Update([1.0]);
        a.Update([2.0]);
        var b = RandomCutForest.FromBytes(a.ToBytes());
        var data = Sine(400, 1);
        foreach (var point in data)
        {
            Assert.Equal(a.ScoreAndUpdate(point), b.ScoreAndUpdate(point));
        }
    }

    [Fact]
    public void ScoreAndUpdate_SameSeed_SameScores_OtherSeedDifferent()
    {
        var data = Sine(800, 1);
        var a = new RandomCutForest(Small);
        var b = new RandomCutForest(Small);
        var c = new RandomCutForest(Small with { Seed = 43 });
        var sa = data.Select(p => a.ScoreAndUpdate(p)).ToArray();
        var sb = data.Select(p => b.ScoreAndUpdate(p)).ToArray();
        var sc = data.Select(p => c.ScoreAndUpdate(p)).ToArray();
        Assert.Equal(sa, sb);
        Assert.Equal(a.ToBytes(), b.ToBytes());
        Assert.NotEqual(sa, sc);
    }

    [Fact]
    public void ScoreAndUpdate_BeforeOutputAfter_ReturnsZeroThenPositive()
    {
        var forest = new RandomCutForest(Small with { OutputAfter = 10 });
        var data = Sine(20, 1);
        for (var i = 0; i < 10; i++)
        {
            Assert.False(forest.IsWarm);
            Assert.Equal(0, forest.ScoreAndUpdate(data[i]));
        }
        Assert.True(forest.IsWarm);
        Assert.True(forest.ScoreAndUpdate(data[10]) > 0);
    }

    [Fact]
    public void Score_DoesNotChangeTheForest()
    {
        var forest = new RandomCutForest(Small);
        foreach (var point in Sine(300, 1))
        {
            forest.Update(point);
        }
        var before = forest.ToBytes();
        var first = forest.Score([40.0]);
        forest.Attribute([40.0]);
        Assert.Equal(first, forest.Score([40.0]));
        Assert.Equal(before, forest.ToBytes());
        Assert.Equal(300, forest.PointsSeen);
    }

    [Fact]
    public void ScoreAndUpdate_RepeatedStarRatings_ReusesChunkScoresWithTheSameBits()
    {
        // Five values and an occasional other one: most chunk sums come from memory, and each score must have the
        // bits of a forest restored from the same state, which remembers nothing.
        var forest = new RandomCutForest(Small);
        var random = new Random(5);
        for (var i = 0; i < 1_500; i++)
        {
            double[] point = [i % 97 == 0 ? 2.5 + random.NextDouble() : random.Next(1, 6)];
            var fresh = RandomCutForest.FromBytes(forest.ToBytes()).Score(point);
            Assert.Equal(fresh, forest.ScoreAndUpdate(point));
        }
        // 9 chunks (7 of four trees, 2 single) × ~1,430 warm scores; early on, 64-point samples still take a good
        // share of the points (64/t), so a chunk of four often changes: about a third are reused here.
        Assert.True(forest.ReusedChunkScores > 3_000, $"only {forest.ReusedChunkScores} chunk scores were reused");
    }

    [Fact]
    public void Score_AfterBatchesChangedTrees_RecomputesTheirChunks()
    {
        // The batch API updates trees on several threads without the per-record memory; a remembered query must not
        // keep chunk sums from before. Fast decay so that each batch changes many trees.
        var forest = new RandomCutForest(Small with { TimeDecay = 0.01 });
        var random = new Random(6);
        var scores = new double[50];
        for (var round = 0; round < 30; round++)
        {
            var batch = Enumerable.Range(0, 50).Select(_ => (double)random.Next(1, 6)).ToArray();
            forest.ScoreAndUpdate(batch, scores, maxDegreeOfParallelism: 2);
            foreach (var value in new[] { 3.0, 4.0 })
            {
                Assert.Equal(RandomCutForest.FromBytes(forest.ToBytes()).Score([value]), forest.Score([value]));
            }
        }
    }

    [Fact]
    public void Score_ConstantStream_IsHalfTheSeenScoreAndBelowAnyOutlier()
    {
        // All sampled points are one duplicate leaf of mass m at the root: damp(m, m)·1/log2(m + 1)·log2(m + 1) = 0.5.
        var forest = new RandomCutForest(Small);
        for (var i = 0; i < 500; i++)
        {
            forest.Update([3.0]);
        }
        Assert.Equal(0.5, forest.Score([3.0]), 12);
        // A new value against a tree that is one leaf of mass m at depth 0 scores 1/(0 + 1)·log2(m + 1); m is at most 64
        // and, with the samplers' initial-accept ramp, close to it after 500 points.
        Assert.InRange(forest.Score([4.0]), Math.Log2(33), Math.Log2(65) + 1e-9);
    }

    [Fact]
    public void Score_ClearOutlier_NearMaximumAndAboveNormalPoints()
    {
        var forest = new RandomCutForest(new RandomCutForestOptions { NumberOfTrees = 50 });
        var data = Sine(2_000, 1, seed: 3);
        foreach (var point in data.Take(1_999))
        {
            forest.Update(point);
        }
        var normal = forest.Score([10.0]);
        var outlier = forest.Score([1_000.0]);
        Assert.InRange(normal, 0.3, 1.5);
        // The maximum is about log2(257) = 8.0; a far outlier is isolated at depth 1 in most trees.
        Assert.InRange(outlier, 4.0, Math.Log2(257) + 1e-9);
    }

    [Fact]
    public void Attribute_SumsToScoreAndPointsTheRightWay()
    {
        var forest = new RandomCutForest(Small with { Dimensions = 3 });
        foreach (var point in Sine(600, 3))
        {
            forest.Update(point);
        }
        var spike = new[] { 45.0, 10.0, 10.0 };
        var dip = new[] { 10.0, -30.0, 10.0 };
        var high = forest.Attribute(spike);
        var low = forest.Attribute(dip);

        Assert.Equal(forest.Score(spike), high.Score, 9);
        Assert.Equal(high.Score, Enumerable.Range(0, 3).Sum(high.Attribution), 12);
        Assert.Equal(AttributionDirection.High, high.Direction(0));
        Assert.True(high.Strength(0) > 0.8, $"strength {high.Strength(0)}");
        Assert.Equal(AttributionDirection.Low, low.Direction(1));
        Assert.True(low.Low(1) > low.High(1));
        Assert.Equal(1.0, Enumerable.Range(0, 3).Sum(high.Strength), 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => high.High(3));
    }

    [Fact]
    public void Attribute_DuplicateOfSampledPoint_SumsToScore()
    {
        var forest = new RandomCutForest(Small with { Dimensions = 2 });
        var data = Sine(300, 2);
        foreach (var point in data)
        {
            forest.Update(point);
        }
        var attribution = forest.Attribute(data[^1]);
        Assert.Equal(forest.Score(data[^1]), attribution.Score, 9);
    }

    [Fact]
    public void ScoreAndUpdate_ShingleSize4_FlagsTheSpikeAndAttributesPerInputDimension()
    {
        var forest = new RandomCutForest(new RandomCutForestOptions { NumberOfTrees = 50, ShingleSize = 4, Dimensions = 2 });
        var data = Sine(1_100, 2);
        var scores = data.Select(p => forest.ScoreAndUpdate(p)).ToArray();
        // The spike at row 1000 is in the shingles ending at rows 1000..1003.
        Assert.InRange(Enumerable.Range(600, 500).MaxBy(i => scores[i]), 1_000, 1_003);
        var attribution = forest.Attribute([40.0, 10.0]);
        Assert.Equal(2, attribution.Dimensions);
        Assert.Equal(AttributionDirection.High, attribution.Direction(0));
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    [InlineData(1e300, "single-precision")]
    public void ScoreAndUpdate_NonFiniteValue_ThrowsNamingIt(double bad, string expected)
    {
        var forest = new RandomCutForest(Small with { Dimensions = 2 });
        var ex = Assert.Throws<ArgumentException>(() => forest.ScoreAndUpdate([1.0, bad]));
        Assert.Equal("point", ex.ParamName);
        Assert.Contains("point[1]", ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Throws<ArgumentException>(() => forest.Update([bad, 1.0]));
        Assert.Throws<ArgumentException>(() => forest.Attribute([bad, 1.0]));
        Assert.Equal(0, forest.PointsSeen);
    }

    [Fact]
    public void Score_WrongDimension_ThrowsWithBothLengths()
    {
        var forest = new RandomCutForest(Small with { Dimensions = 3 });
        var ex = Assert.Throws<ArgumentException>(() => forest.Score([1.0, 2.0]));
        Assert.Equal("point", ex.ParamName);
        Assert.Contains("2 value(s)", ex.Message);
        Assert.Contains("Dimensions = 3", ex.Message);
    }

    [Theory]
    [InlineData(nameof(RandomCutForestOptions.Dimensions))]
    [InlineData(nameof(RandomCutForestOptions.NumberOfTrees))]
    [InlineData(nameof(RandomCutForestOptions.SampleSize))]
    [InlineData(nameof(RandomCutForestOptions.TimeDecay))]
    [InlineData(nameof(RandomCutForestOptions.ShingleSize))]
    [InlineData(nameof(RandomCutForestOptions.OutputAfter))]
    public void Constructor_BadOption_ThrowsNamingTheProperty(string property)
    {
        var options = property switch
        {
            nameof(RandomCutForestOptions.Dimensions) => new RandomCutForestOptions { Dimensions = 0 },
            nameof(RandomCutForestOptions.NumberOfTrees) => new RandomCutForestOptions { NumberOfTrees = 0 },
            nameof(RandomCutForestOptions.SampleSize) => new RandomCutForestOptions { SampleSize = 1 },
            nameof(RandomCutForestOptions.TimeDecay) => new RandomCutForestOptions { TimeDecay = double.NaN },
            nameof(RandomCutForestOptions.ShingleSize) => new RandomCutForestOptions { ShingleSize = 0 },
            _ => new RandomCutForestOptions { OutputAfter = -1 },
        };
        var ex = Assert.Throws<ArgumentException>(() => new RandomCutForest(options));
        Assert.Equal(property, ex.ParamName);
    }

    [Fact]
    public void FromBytes_BadHeaderVersionOrTruncation_ThrowsClearly()
    {
        var forest = new RandomCutForest(Small);
        foreach (var point in Sine(200, 1))
        {
            forest.Update(point);
        }
        var bytes = forest.ToBytes();

        var wrongMagic = (byte[])bytes.Clone();
        wrongMagic[0] = (byte)'X';
        Assert.Contains("not a saved RandomCutForest", Assert.Throws<ArgumentException>(() => RandomCutForest.FromBytes(wrongMagic)).Message);

        var futureVersion = (byte[])bytes.Clone();
        futureVersion[4] = 99;
        Assert.Contains("format version 99", Assert.Throws<ArgumentException>(() => RandomCutForest.FromBytes(futureVersion)).Message);

        Assert.Contains("truncated", Assert.Throws<ArgumentException>(() => RandomCutForest.FromBytes(bytes.AsSpan(0, bytes.Length - 3))).Message);
        Assert.Contains("trailing", Assert.Throws<ArgumentException>(() => RandomCutForest.FromBytes([.. bytes, 0])).Message);
        Assert.Throws<ArgumentException>(() => RandomCutForest.FromBytes([]));
    }

    [Fact]
    public void FromBytes_Version1StateOfThePreviousBuild_RestoresWithItsScoresAndContinues()
    {
        // Saved by the build before the skip-ahead samplers (commit 9557280): 3 trees × 16 samples, d = 2, seed 7,
        // after 400 points of a circle. Scores do not involve the samplers, so they must be the old build's exactly.
        var forest = RandomCutForest.FromBytes(Convert.FromBase64String(Version1State));
        Assert.Equal(1.1762707828609182, forest.Score([10.0, 15.0]));
        Assert.Equal(2.683401046080435, forest.Score([30.0, 10.0]));
        Assert.Equal(400, forest.PointsSeen);

        // Its samplers draw their next admissions afresh, deterministically: two restores continue alike.
        var again = RandomCutForest.FromBytes(Convert.FromBase64String(Version1State));
        for (var t = 400; t < 2_400; t++)
        {
            double[] point = [10 + 5 * Math.Sin(t / 8.0), 10 + 5 * Math.Cos(t / 8.0)];
            Assert.Equal(forest.ScoreAndUpdate(point), again.ScoreAndUpdate(point));
        }
        var saved = forest.ToBytes();
        Assert.Equal(RandomCutForest.StateVersion, saved[4]);
        Assert.Equal(saved, again.ToBytes());
        Assert.Equal(saved, RandomCutForest.FromBytes(saved).ToBytes());
    }

    private const string Version1State =
        "UkNGMQECAAAAAwAAABAAAADxaOOItfjkPgEAAAD/////BwAAAAAAAACQAQAAAAAAAJABAAAAAAAAAAAAAAAAAAABAAAAmowBQWH6"
        + "aUFtT3Jnj6zrPxAAAADH1QIzZlsKwAYACv7VBocTC8AIAM4G+7N+TwzABwCoRmQGSRwMwAUApeDafxnTDsAJAMxcYjz2BQ3ABADP"
        + "wkxgJjQNwAAA821gAGToDMABAOSgWzvH6xPADgB+NWwJAocPwA0AmKzdhr8mD8AMALEzOie/gBHADwDFRcmNwj8OwAIAij30+M53"
        + "F8AKANQT/Q7rDRPACwANln5mc0oOwAMAAgAAAAAAAAAAAAUAEQABACg7a0ELABIAAABjtmdBBwAAAAAADJbRQBgAEwABAFewPUEW"
        + "ABUAAADF/AtBCgAOAAEAEYsZQRwAGgABACY7SkEDAAYAAABUCrZAHQAbAAEA00nQQBcAAQAAAL4kVEENAAgAAADFVkRBFAAQAAEA"
        + "hEZUQR8AGQABADUXI0EeAAQAAQDAg6JADAAJAAEAirwmQQEAixNWQZv0WkEBAE4pNUGGJm1BAQA9CmtBF7s7QQEAIJauQFtfQUEB"
        + "AFNRY0FkOUtBAQCY7ENBBAqxQAEAtykAQT03rUABAN1NTkHKPGFBAQBQFKlA1ZA6QQEA38BvQcxGJkEBAB1nxECJzVJBAQCw025B"
        + "oVkSQQEAC5K2QIP3SEEBAPB9VEFPQsdAAQDo/BlB1HOgQAEAfP5vQSz5IEHxG1yAr3QSuxAAAAAGOlyIwVIKwAQAjanXCt6mCsAG"
        + "AHY4Cue5bAvACgBLH/XrxE0LwA4AP81smMRPDcADAC+23YZXhwvABwDNvpmnQ9gLwAEA0mt3xsttC8AIAOg9epOD4xXACQCxR1Vg"
        + "kssTwAwAlbUh8j30F8AFANzXOiZtmQ3AAAD051LOt6MOwA0Ajhp0wp6oDMAPALgHL/F9bBjACwCDM3xdlXcNwAIADQAAAAAAAAAA"
        + "AAoAAwAAANzaEkEWABwAAACrp1VBCwABAAAALcNEQRQABgABAHTkwUAdABMAAAC8ei1BHwASAAAA8n1lQQkAAgABALv3TkEQABgA"
        + "AAAwlLhAEQAZAAEARNtpQQUADgABAHrvCkEVAB4AAAD5yBFBBAAMAAAAnH8wQRoACAAAAC9zM0EHAAAAAABMeupAFwAbAAEA4OYj"
        + "QQEAM7mgQKxmGEEBAKovP0HJq2lBAQBZAmtBli8EQQEAoZsuQa6nbkEBACesNUGq+6VAAQAVLRBBX2tuQQEA6/JPQc4JYEEBAOzh"
        + "b0F0qhtBAQDc/M5A/bzOQAEA3Uw4QVY4bEEBABIxM0H0qW1BAQA2RG1B4rs0QQEACN5ZQT89V0EBAL0RJEF95W9BAQBlyRJBueZu"
        + "QQEAkWJlQZpb8EDbDlNPpsPEMhAAAABEr9pSNmwKwAEAxpdVOWQJDMAMALRl2lckyAvAAgDaEAKxyt0MwAYA2brkYeMmD8AEAF5w"
        + "nhf2Pg7ABwA4ZblupMcMwAUA0P9kEcwYD8AJAC7sTLqlKg/ACwANyH+8/QkQwAgAk4kbMpq0F8AKANltqnm/3A7ADwA75iwC2mYU"
        + "wA4ATXIx6AU7DcANAKDTD3MmKQ7AAwA2pxr0eM4QwAAADQAAAAAAAAAAAAMAEwAAAEcgAEEGAAcAAABZ2mVBEgAdAAAAw3pDQRAA"
        + "FAAAAFd/6EAeABYAAQA0hRFBHAAVAAAASYRqQRsAFwAAAFZjWEEJAAUAAQC34hdBHwAZAAAAEeBrQQgAGgABANiWEEELAAAAAACV"
        + "a71ABAAYAAAATDqnQA4AAQAAADVoUEEKAAwAAADBoClBEQACAAEAuDu5QAEAjj3iQJRZvkABAAkNSEGqfrVAAQDdTDhBVjhsQQEA"
        + "1/UXQV3PoEABACi79kAOw7FAAQBv6W1BrCgyQQEAOuqhQBJXLEEBAA2iXkF9ddxAAQDQmrhAKb/qQAEAQXRuQV1ZEEEBAIQ8b0Ea"
        + "+RRBAQDlBVRBL3PGQAEAR/9mQbzeREEBAN1NTkHKPGFBAQApLaZAqPwJQQEASbFrQW0aBkE=";

    [Fact]
    public void FromBytes_CorruptTreeReference_ThrowsInsteadOfLoadingGarbage()
    {
        var forest = new RandomCutForest(Small with { NumberOfTrees = 1 });
        foreach (var point in Sine(200, 1))
        {
            forest.Update(point);
        }
        var bytes = forest.ToBytes();
        var failures = 0;
        // Flip each byte of the tree section in turn; a restore must either fail with ArgumentException or succeed.
        for (var i = 60; i < bytes.Length; i += 7)
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= 0xFF;
            try
            {
                RandomCutForest.FromBytes(corrupt).Score([10.0]);
            }
            catch (ArgumentException)
            {
                failures++;
            }
        }
        Assert.True(failures > 0);
    }

    /// <summary>
    /// Byte offsets in the state of a one-tree, one-dimension forest without shingling: header 5, options 36,
    /// counters 20, shingle 4, then the tree's random state 8, the sample (size, then weight and leaf per entry, then
    /// the next admission) and the structure (root, free lists, live nodes, live leaves).
    /// </summary>
    private static (byte[] Bytes, int Shingle, int Sample, int SampleSize, int FirstNode) OneTreeState()
    {
        var forest = new RandomCutForest(new RandomCutForestOptions { NumberOfTrees = 1, SampleSize = 16, Dimensions = 1, Seed = 3 });
        foreach (var point in Sine(200, 1))
        {
            forest.Update(point);
        }
        var bytes = forest.ToBytes();
        const int shingle = 5 + 36 + 20;
        var sampleSize = BitConverter.ToInt32(bytes, shingle + 4 + 8);
        var sample = shingle + 4 + 8 + 4;
        var tree = sample + (10 * sampleSize) + 8;
        var freeNodes = BitConverter.ToInt32(bytes, tree + 2);
        var freeLeavesAt = tree + 2 + 4 + (2 * freeNodes);
        var freeLeaves = BitConverter.ToInt32(bytes, freeLeavesAt);
        return (bytes, shingle, sample, sampleSize, freeLeavesAt + 4 + (2 * freeLeaves));
    }

    private static string RestoreError(byte[] bytes) =>
        Assert.Throws<ArgumentException>(() => RandomCutForest.FromBytes(bytes)).Message;

    [Fact]
    public void FromBytes_NonFiniteValues_ThrowNamingThem()
    {
        // A NaN leaf coordinate made the next insert loop forever at that leaf; a NaN weight passed the heap check.
        var (bytes, shingle, sample, _, _) = OneTreeState();
        Assert.Equal(bytes, RandomCutForest.FromBytes(bytes).ToBytes());

        var leaf = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(leaf.AsSpan(leaf.Length - 4), float.NaN);
        Assert.Contains("leaf coordinate is NaN", RestoreError(leaf));

        var shingleValue = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(shingleValue.AsSpan(shingle), float.PositiveInfinity);
        Assert.Contains("shingle value is Infinity", RestoreError(shingleValue));

        var weight = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(weight.AsSpan(sample), double.NaN);
        Assert.Contains("sample weight is NaN", RestoreError(weight));
    }

    [Fact]
    public void FromBytes_SampleEntriesNotMatchingLeaves_Throws()
    {
        // Entries pointing at other leaves than the tree holds would make evictions remove the wrong points.
        var (bytes, _, sample, size, _) = OneTreeState();
        var corrupt = (byte[])bytes.Clone();
        var first = BitConverter.ToUInt16(bytes, sample + 8);
        var other = Enumerable.Range(1, size - 1).Select(i => BitConverter.ToUInt16(bytes, sample + (10 * i) + 8)).First(l => l != first);
        BitConverter.TryWriteBytes(corrupt.AsSpan(sample + 8), other);
        Assert.Contains("sample entries", RestoreError(corrupt));
    }

    [Fact]
    public void FromBytes_NextAdmissionNegativeOrAlreadyPassed_Throws()
    {
        // A full sampler due at a point the forest has passed would never admit again; a negative one is garbage.
        var (bytes, _, sample, size, _) = OneTreeState();
        var passed = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(passed.AsSpan(sample + (10 * size)), 5L);
        Assert.Contains("already passed", RestoreError(passed));
        var negative = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(negative.AsSpan(sample + (10 * size)), -7L);
        Assert.Contains("is negative", RestoreError(negative));
    }

    [Fact]
    public void FromBytes_ReferenceToTheGapBetweenNodesAndLeaves_Throws()
    {
        // capacity − 1 is neither an internal node (0..capacity − 2) nor a leaf (capacity..): it used to pass the
        // range check and fail later with IndexOutOfRangeException.
        var (bytes, _, _, _, firstNode) = OneTreeState();
        var corrupt = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(corrupt.AsSpan(firstNode), (ushort)15);
        Assert.Contains("child reference 15 is out of range", RestoreError(corrupt));
    }

    [Fact]
    public void FromBytes_CutNotSeparatingChildren_Throws()
    {
        var (bytes, _, _, _, firstNode) = OneTreeState();
        foreach (var cut in new[] { 1e30f, -1e30f })
        {
            var corrupt = (byte[])bytes.Clone();
            BitConverter.TryWriteBytes(corrupt.AsSpan(firstNode + 6), cut);
            Assert.Contains("does not separate its children", RestoreError(corrupt));
        }
    }

    [Fact]
    public void ToBytes_FixedSeedAndStream_MatchesCheckedInFingerprint()
    {
        // Pins the saved-state format and the random streams: a change to either shows up here and needs a new
        // StateVersion (or a deliberate update of this fingerprint).
        var forest = new RandomCutForest(new RandomCutForestOptions { NumberOfTrees = 5, SampleSize = 16, Dimensions = 2, Seed = 42 });
        foreach (var point in Sine(300, 2))
        {
            forest.Update(point);
        }
        var bytes = forest.ToBytes();
        Assert.Equal(Fingerprint, Convert.ToHexString(SHA256.HashData(bytes))[..16]);
    }

    private const string Fingerprint = "D1670313BF62FF2A";
}
