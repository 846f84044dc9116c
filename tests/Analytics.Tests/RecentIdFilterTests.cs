using ReviewOrleans.Analytics.Dedup;

namespace ReviewOrleans.Analytics.Tests;

public sealed class RecentIdFilterTests
{
    [Fact]
    public void TryAdd_SameIdWithinHorizon_RefusedOnce()
    {
        var filter = new RecentIdFilter(TimeSpan.FromMinutes(10), 1_000, nowMs: 0);

        Assert.True(filter.TryAdd(42, 0));
        Assert.False(filter.TryAdd(42, 1_000));
        Assert.False(filter.TryAdd(42, 5 * 60_000)); // after a rotation it is still in the previous generation
        Assert.True(filter.TryAdd(43, 5 * 60_000));
    }

    [Fact]
    public void TryAdd_AfterFullHorizon_Forgotten()
    {
        var filter = new RecentIdFilter(TimeSpan.FromMinutes(10), 1_000, nowMs: 0);
        filter.TryAdd(42, 0);

        Assert.True(filter.TryAdd(42, 10 * 60_000 + 1));
    }

    [Fact]
    public void TryAdd_NeverRemembersBeyondHorizon()
    {
        // Rotation used to happen only when an id arrived, so a generation started just after X could keep X for
        // another half horizon: X at 0, Y at 9.99 s, then X again at 14.9 s was refused with a 10 s horizon.
        var filter = new RecentIdFilter(TimeSpan.FromSeconds(10), 1_000, nowMs: 0);
        Assert.True(filter.TryAdd(1, 0));
        Assert.True(filter.TryAdd(2, 9_990));
        Assert.True(filter.TryAdd(1, 14_900));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(4_999L)]
    [InlineData(-7_500L)]
    public void TryAdd_RemembersAtLeastHalfHorizon_AtMostHorizon(long firstMs)
    {
        // Sweep the re-send delay: within half the horizon it is always a duplicate, from the horizon on never.
        for (var delay = 0L; delay <= 12_000; delay += 250)
        {
            var filter = new RecentIdFilter(TimeSpan.FromSeconds(10), 1_000, nowMs: firstMs);
            Assert.True(filter.TryAdd(7, firstMs));
            var accepted = filter.TryAdd(7, firstMs + delay);
            if (delay < 5_000)
            {
                Assert.False(accepted, $"re-sent after {delay} ms");
            }
            else if (delay >= 10_000)
            {
                Assert.True(accepted, $"re-sent after {delay} ms");
            }
        }
    }

    [Fact]
    public void Remove_AfterFailedProcessing_RetryIsNotADuplicate()
    {
        var filter = new RecentIdFilter(TimeSpan.FromMinutes(10), 4, nowMs: 0);
        Assert.True(filter.TryAdd(1, 0));
        Assert.True(filter.TryAdd(2, 0));
        Assert.True(filter.TryAdd(3, 0)); // the generation was full: 1 and 2 moved to the previous one
        filter.Remove(1);
        filter.Remove(3);
        Assert.False(filter.TryAdd(2, 0));
        Assert.True(filter.TryAdd(1, 0));
        Assert.True(filter.TryAdd(3, 0));
    }

    [Fact]
    public void TryAdd_ManyIds_MemoryStaysWithinCapacity()
    {
        var filter = new RecentIdFilter(TimeSpan.FromDays(1), 1_000, nowMs: 0);
        for (ulong id = 0; id < 100_000; id++)
        {
            Assert.True(filter.TryAdd(id, 0));
            Assert.True(filter.Count <= 1_000);
        }
        // The newest half-capacity ids are always remembered.
        for (ulong id = 100_000 - 500; id < 100_000; id++)
        {
            Assert.False(filter.TryAdd(id, 0));
        }
    }

    [Fact]
    public void Constructor_ZeroCapacity_ThrowsNamingCapacity()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new RecentIdFilter(TimeSpan.FromMinutes(1), 0, 0));
        Assert.Equal("capacity", ex.ParamName);
    }
}
