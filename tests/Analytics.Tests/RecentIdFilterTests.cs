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
