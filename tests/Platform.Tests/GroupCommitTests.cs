using Microsoft.Extensions.Time.Testing;
using ReviewOrleans.Grains;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// <see cref="GroupCommit"/> over a fake clock and writes the test finishes by hand: which changes each write
/// carries, when writes start, and who sees a failed write.
/// </summary>
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// A store whose writes snapshot a change counter, note the fake clock's time, and finish when the test says.
    /// </summary>
    private sealed class ManualStore(FakeTimeProvider clock)
    {
        private readonly List<(int Snapshot, DateTimeOffset Start, TaskCompletionSource Done)> _writes = [];

        public int Changes { get; set; }

        public Task Write()
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_writes)
            {
                _writes.Add((Changes, clock.GetUtcNow(), done));
            }
            return done.Task;
        }

        public int WriteCount { get { lock (_writes) { return _writes.Count; } } }

        public (int Snapshot, DateTimeOffset Start, TaskCompletionSource Done) this[int i] { get { lock (_writes) { return _writes[i]; } } }

        /// <summary>
        /// Moves the fake clock on in small steps until <paramref name="count"/> writes have started: a pending
        /// write may be waiting on a fake-time delay that it registers only after the previous write completes.
        /// </summary>
        public Task<int> WaitForWrites(int count) => Eventually.Get(() =>
        {
            if (WriteCount < count)
            {
                clock.Advance(TimeSpan.FromMilliseconds(10));
            }
            return Task.FromResult(WriteCount);
        }, n => n >= count, $"{count} writes", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task CommitAsync_CallsDuringAWrite_ShareOneLaterWriteThatCarriesAllTheirChanges()
    {
        var clock = new FakeTimeProvider();
        var store = new ManualStore(clock);
        var commit = new GroupCommit(store.Write, Interval, clock);

        store.Changes = 1;
        var first = commit.CommitAsync();
        Assert.Equal(1, store.WriteCount); // the first write starts at once
        store.Changes = 2;
        var second = commit.CommitAsync();
        store.Changes = 3;
        var third = commit.CommitAsync();
        Assert.Same(second, third);

        store[0].Done.SetResult();
        await first;
        Assert.False(second.IsCompleted);

        await store.WaitForWrites(2);
        Assert.Equal(3, store[1].Snapshot); // both later changes, in one write
        Assert.True(store[1].Start - store[0].Start >= Interval, $"the second write started {store[1].Start - store[0].Start} after the first");
        Assert.False(second.IsCompleted);
        store[1].Done.SetResult();
        await second;
        Assert.Equal(2, store.WriteCount);
    }

    [Fact]
    public async Task CommitAsync_CallAfterAWriteStarted_WaitsForTheNextWrite()
    {
        var clock = new FakeTimeProvider();
        var store = new ManualStore(clock);
        var commit = new GroupCommit(store.Write, TimeSpan.Zero, clock);

        var first = commit.CommitAsync();
        store.Changes = 1; // made while write 1 runs: write 1 may not have it
        var second = commit.CommitAsync();
        Assert.NotSame(first, second);

        store[0].Done.SetResult();
        await first;
        await store.WaitForWrites(2); // no interval: the next write follows at once
        Assert.Equal(1, store[1].Snapshot);
        Assert.False(second.IsCompleted);
        store[1].Done.SetResult();
        await second;
    }

    [Fact]
    public async Task CommitAsync_WriteFails_ItsCallersSeeTheErrorAndTheNextCommitWritesAgain()
    {
        var clock = new FakeTimeProvider();
        var store = new ManualStore(clock);
        var commit = new GroupCommit(store.Write, Interval, clock);

        var failed = commit.CommitAsync();
        store[0].Done.SetException(new InvalidOperationException("database is locked"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failed);
        Assert.Equal("database is locked", error.Message);

        store.Changes = 7;
        var retry = commit.CommitAsync();
        await store.WaitForWrites(2);
        Assert.Equal(7, store[1].Snapshot);
        store[1].Done.SetResult();
        await retry;
    }

    [Fact]
    public async Task CommitAsync_WhileAWriteRuns_NoSecondWriteStartsWhateverTheClock()
    {
        var clock = new FakeTimeProvider();
        var store = new ManualStore(clock);
        var commit = new GroupCommit(store.Write, Interval, clock);

        var first = commit.CommitAsync();
        var second = commit.CommitAsync();
        clock.Advance(TimeSpan.FromSeconds(5)); // far past the interval, but write 1 is still running
        await Task.Yield();
        Assert.Equal(1, store.WriteCount);

        store[0].Done.SetResult();
        await first;
        await store.WaitForWrites(2);
        store[1].Done.SetResult();
        await second;
    }

    [Fact]
    public async Task CommitAsync_WriteFailsWhileTheNextWaits_TheNextStillWritesAndSucceeds()
    {
        var clock = new FakeTimeProvider();
        var store = new ManualStore(clock);
        var commit = new GroupCommit(store.Write, Interval, clock);

        var failing = commit.CommitAsync();
        store.Changes = 3;
        var waiting = commit.CommitAsync();
        store[0].Done.SetException(new IOException("disk full"));
        await Assert.ThrowsAsync<IOException>(() => failing);

        await store.WaitForWrites(2);
        Assert.Equal(3, store[1].Snapshot);
        store[1].Done.SetResult();
        await waiting;
    }
}
