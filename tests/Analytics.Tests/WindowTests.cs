using ReviewOrleans.Analytics.Windows;

namespace ReviewOrleans.Analytics.Tests;

public sealed class WindowTests
{
    private static TumblingWindowAggregator Processing(LateValuePolicy policy = LateValuePolicy.UpdateWindow) =>
        new(new TumblingWindowOptions { Size = TimeSpan.FromSeconds(5), LatePolicy = policy });

    private static TumblingWindowAggregator EventTime(TimeSpan lateness, LateValuePolicy policy) =>
        new(new TumblingWindowOptions { Size = TimeSpan.FromSeconds(5), Time = WindowTime.Event, AllowedLateness = lateness, LatePolicy = policy });

    [Theory]
    [InlineData(0, 0)]
    [InlineData(4_999, 0)]
    [InlineData(5_000, 5_000)] // a window is [start, end): the end belongs to the next one
    [InlineData(-1, -5_000)] // floor, not truncation, before the epoch
    [InlineData(-5_000, -5_000)]
    public void WindowStartOf_Boundaries_FloorToWindowSize(long timestamp, long expectedStart) =>
        Assert.Equal(expectedStart, TumblingWindowAggregator.WindowStartOf(timestamp, 5_000));

    [Fact]
    public void Advance_ProcessingTimePassesEnd_EmitsWindowWithCountSumMeanAndStars()
    {
        var windows = Processing();
        windows.Add(1_000, 5.0, 5);
        windows.Add(2_000, 1.0, 1);
        windows.Add(4_999, 3.5, 4);
        windows.Add(5_000, 2.0, 2);

        Assert.Empty(windows.Advance(4_999));
        var closed = Assert.Single(windows.Advance(5_000));

        Assert.Equal((0L, 5_000L), (closed.StartMs, closed.EndMs));
        Assert.Equal(3, closed.Count);
        Assert.Equal(9.5, closed.Sum, 12);
        Assert.Equal(9.5 / 3, closed.Mean, 12);
        Assert.Equal([1L, 0, 0, 1, 1], closed.Aggregate.StarCounts);
        Assert.Equal(1.0 / 3, closed.Aggregate.NegativeShare, 12);
        Assert.Equal(WindowEmission.Final, closed.Emission);
        Assert.Equal(1, windows.OpenWindowCount);
    }

    [Fact]
    public void Add_AfterWindowClosedWithUpdatePolicy_ReemitsWindowMarkedUpdate()
    {
        var windows = Processing();
        windows.Add(1_000, 4.0, 4);
        Assert.Single(windows.Advance(6_000));

        var admission = windows.Add(2_000, 2.0, 2);

        Assert.Equal(WindowAdmissionOutcome.UpdatedClosedWindow, admission.Outcome);
        var update = Assert.Single(windows.Advance(6_500));
        Assert.Equal(WindowEmission.Update, update.Emission);
        Assert.Equal(2, update.Count);
        Assert.Equal(6.0, update.Sum, 12);
        Assert.Empty(windows.Advance(7_000));
    }

    [Fact]
    public void Add_AfterWindowClosedWithDeadLetterPolicy_RefusedWithReasonAndCounted()
    {
        var windows = Processing(LateValuePolicy.DeadLetter);
        windows.Add(1_000, 4.0, 4);
        windows.Advance(6_000);

        var admission = windows.Add(2_000, 2.0, 2);

        Assert.Equal(WindowAdmissionOutcome.Late, admission.Outcome);
        Assert.Contains("late", admission.Reason);
        Assert.Equal(1, windows.LateCount);
        Assert.Empty(windows.Advance(7_000));
    }

    [Fact]
    public void Advance_EventTime_ClosesOnlyWhenWatermarkPassesEnd()
    {
        var windows = EventTime(TimeSpan.FromSeconds(2), LateValuePolicy.DeadLetter);
        windows.Add(1_000, 5, 5);
        windows.Add(6_000, 5, 5); // watermark 4 000: window [0, 5000) still open

        Assert.Equal(4_000, windows.WatermarkMs);
        Assert.Empty(windows.Advance(long.MaxValue)); // the wall clock does not close event-time windows

        Assert.Equal(WindowAdmissionOutcome.Accepted, windows.Add(3_000, 1, 1).Outcome); // out of order but within lateness
        windows.Add(7_000, 5, 5); // watermark 5 000
        var closed = Assert.Single(windows.Advance(0));
        Assert.Equal(2, closed.Count);

        var late = windows.Add(4_000, 1, 1);
        Assert.Equal(WindowAdmissionOutcome.Late, late.Outcome);
        Assert.Equal(0, late.WindowStartMs);
    }

    [Fact]
    public void Add_LateBeyondUpdateHorizon_DeadLettered()
    {
        var windows = new TumblingWindowAggregator(new TumblingWindowOptions { UpdateHorizon = TimeSpan.FromSeconds(10) });
        windows.Add(1_000, 3, 3);
        windows.Advance(60_000);

        var admission = windows.Add(1_000, 3, 3);

        Assert.Equal(WindowAdmissionOutcome.Late, admission.Outcome);
        Assert.Contains("horizon", admission.Reason);
    }

    [Fact]
    public void Merge_PartialsFromSeveralProducers_EqualOneAggregatorOverAllValues()
    {
        var direct = Processing();
        var merged = Processing();
        var producers = new[] { new WindowAggregate(), new WindowAggregate() };
        var random = new Random(42);
        for (var i = 0; i < 1_000; i++)
        {
            var stars = random.Next(1, 6);
            var value = stars - 0.25 + random.NextDouble() / 2;
            direct.Add(100 + i, value, stars);
            producers[i % 2].Add(value, stars);
        }
        foreach (var partial in producers)
        {
            merged.Merge(0, partial, 1_099);
        }

        var a = Assert.Single(direct.Advance(5_000));
        var b = Assert.Single(merged.Advance(5_000));
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(a.Sum, b.Sum, 9);
        Assert.Equal(a.Aggregate.StarCounts, b.Aggregate.StarCounts);
    }

    [Fact]
    public void Merge_UnalignedWindowStart_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Processing().Merge(1_234, new WindowAggregate(), 1_234));
        Assert.Equal("windowStartMs", ex.ParamName);
    }

    [Theory]
    [InlineData(double.NaN, 3, "value")]
    [InlineData(double.PositiveInfinity, 3, "value")]
    [InlineData(3.0, 0, "stars")]
    [InlineData(3.0, 6, "stars")]
    public void Add_InvalidValueOrStars_ThrowsNamingParameter(double value, int stars, string parameter)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => Processing().Add(0, value, stars));
        Assert.Equal(parameter, ex.ParamName);
    }

    [Fact]
    public void Options_ZeroSize_ThrowsNamingSize()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TumblingWindowAggregator(new TumblingWindowOptions { Size = TimeSpan.Zero }));
        Assert.Equal("Size", ex.ParamName);
    }

    [Fact]
    public void FromBytes_RoundTrip_ContinuesIdentically()
    {
        var options = new TumblingWindowOptions { Time = WindowTime.Event, AllowedLateness = TimeSpan.FromSeconds(1) };
        var original = new TumblingWindowAggregator(options);
        original.Add(1_000, 4, 4);
        original.Add(6_500, 2, 2);
        original.Advance(0);
        original.Add(2_000, 1, 1); // updates the emitted window

        var restored = TumblingWindowAggregator.FromBytes(original.ToBytes(), options);

        Assert.Equal(original.ToBytes(), restored.ToBytes());
        Assert.Equal(original.WatermarkMs, restored.WatermarkMs);
        original.Add(12_000, 5, 5);
        restored.Add(12_000, 5, 5);
        var expected = original.Advance(0);
        var actual = restored.Advance(0);
        Assert.Equal(expected.Select(r => (r.StartMs, r.Count, r.Sum, r.Emission)), actual.Select(r => (r.StartMs, r.Count, r.Sum, r.Emission)));
    }

    [Fact]
    public void FromBytes_WindowSizeChanged_ThrowsClearError()
    {
        var bytes = Processing().ToBytes();
        var ex = Assert.Throws<FormatException>(() => TumblingWindowAggregator.FromBytes(bytes, new TumblingWindowOptions { Size = TimeSpan.FromSeconds(10) }));
        Assert.Contains("5000 ms", ex.Message);
    }
    [Fact]
    public void FromParts_PartsAddCannotProduce_ThrowNamingThePart()
    {
        long[] stars = [0, 0, 1, 1, 0];
        Assert.Equal(2, WindowAggregate.FromParts(2, 7, stars).Count);
        Assert.Equal("sum", Assert.Throws<ArgumentOutOfRangeException>(() => WindowAggregate.FromParts(2, double.NaN, stars)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => WindowAggregate.FromParts(-1, 0, [0, 0, 0, 0, 0])).ParamName);
        Assert.Contains("add up to 2, not to the count 3", Assert.Throws<ArgumentException>(() => WindowAggregate.FromParts(3, 7, stars)).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => WindowAggregate.FromParts(0, 0, [1, -1, 0, 0, 0])).Message);
    }

    [Fact]
    public void FromBytes_TrailingMisalignedOrInvalidWindow_ThrowsClearError()
    {
        var options = new TumblingWindowOptions();
        var aggregator = new TumblingWindowAggregator(options);
        aggregator.Add(1_000, 4, 4);
        var bytes = aggregator.ToBytes();
        Assert.Contains("trailing", Assert.Throws<FormatException>(() => TumblingWindowAggregator.FromBytes([.. bytes, 0], options)).Message);

        // The one open window's record follows the header (version, four longs) and the window count.
        const int window = 1 + (8 * 4) + 4;
        var misaligned = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(misaligned.AsSpan(window), 1_234L);
        Assert.Contains("not a multiple of 5000 ms", Assert.Throws<FormatException>(() => TumblingWindowAggregator.FromBytes(misaligned, options)).Message);

        var nanSum = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(nanSum.AsSpan(window + 16), double.NaN);
        Assert.Contains("invalid window at 0", Assert.Throws<FormatException>(() => TumblingWindowAggregator.FromBytes(nanSum, options)).Message);
    }
}
