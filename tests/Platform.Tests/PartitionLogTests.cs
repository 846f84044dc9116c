using System.Runtime.InteropServices;
using ReviewOrleans.Database;
using ReviewOrleans.Grains;
using ReviewOrleans.Silo.Storage;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// The partition log's contract, the same on each store: PostgreSQL (the cluster profile), the embedded SQLite file
/// and the in-memory profile's log.
/// </summary>
public sealed class PartitionLogTests : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = new("revieworleans-log-");
    private TestDatabase? _database;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        _directory.Dispose();
    }

    [Fact]
    public Task Contract_OnSqlite()
    {
        var path = Path.Combine(_directory.Path, "log.db");
        SqliteGrainStorage.EnsureCreated(path);
        return Contract(service => new AdoNetPartitionLog(SqliteGrainStorage.CreateDataSource(path), service));
    }

    [PostgresFact]
    public async Task Contract_OnPostgreSql()
    {
        _database = await TestDatabase.CreateAsync("log");
        await PostgresSchema.ApplyAsync(_database.ConnectionString);
        await Contract(service => new AdoNetPartitionLog(Npgsql.NpgsqlDataSource.Create(_database.ConnectionString), service));
    }

    [Fact]
    public Task Contract_InMemory()
    {
        var logs = new Dictionary<string, MemoryPartitionLog>();
        return Contract(service => logs.TryGetValue(service, out var log) ? log : logs[service] = new MemoryPartitionLog());
    }

    private static byte[] Ids(params ulong[] hashes) => MemoryMarshal.AsBytes(hashes.AsSpan()).ToArray();

    private static async Task Contract(Func<string, IPartitionLog> open)
    {
        var log = open("a");
        var empty = await log.RecoverAsync(3, idsSinceMs: 0, maxIds: 100);
        Assert.Equal((0L, 0, 0), (empty.Head, empty.Ids.Count, empty.Effects.Count));

        for (var sequence = 1L; sequence <= 5; sequence++)
        {
            await log.AppendAsync(3, sequence, atMs: sequence * 1_000, Ids((ulong)sequence * 10, (ulong)sequence * 10 + 1), new[] { (byte)sequence });
        }
        await log.AppendAsync(4, 1, 1_000, Ids(99), new byte[] { 42 }); // another partition
        await open("b").AppendAsync(3, 1, 1_000, Ids(77), new byte[] { 77 }); // another service on the same store

        // A second activation appending a sequence that exists is fenced out, and nothing of its row is kept.
        var conflict = await Assert.ThrowsAsync<PartitionLogConflictException>(() => log.AppendAsync(3, 5, 9_000, Ids(1), new byte[] { 9 }));
        Assert.Contains("partition 3", conflict.Message);

        var rows = await log.ReadEffectsAsync(3, afterSequence: 1, throughSequence: 4, maxRows: 2);
        Assert.Equal([(2L, (byte)2), (3L, (byte)3)], rows.Select(r => (r.Sequence, r.Body.Single())));

        var recovered = await log.RecoverAsync(3, idsSinceMs: 2_000, maxIds: 100);
        Assert.Equal(5, recovered.Head);
        Assert.Equal([2_000L, 3_000, 4_000, 5_000], recovered.Ids.Select(i => i.AtMs)); // oldest first, since the horizon
        Assert.Equal([20UL, 21], MemoryMarshal.Cast<byte, ulong>(recovered.Ids[0].IdHashes).ToArray());
        Assert.Equal([1L, 2, 3, 4, 5], recovered.Effects.Select(e => e.Sequence));
        // The capacity takes the newest ids first.
        Assert.Equal([4_000L, 5_000], (await log.RecoverAsync(3, 0, maxIds: 4)).Ids.Select(i => i.AtMs));

        // Effects are forgotten once saved downstream; ids after the horizon, but never the head's (it carries the sequence).
        await log.TruncateAsync(3, effectsThrough: 3, idsBeforeMs: 10_000, headSequence: 5);
        var truncated = await log.RecoverAsync(3, 0, 100);
        Assert.Equal(5, truncated.Head);
        Assert.Equal([4L, 5], truncated.Effects.Select(e => e.Sequence));
        Assert.Equal([5_000L], truncated.Ids.Select(i => i.AtMs));
        await log.TruncateAsync(3, effectsThrough: 5, idsBeforeMs: 10_000, headSequence: 5);
        var idle = await log.RecoverAsync(3, 0, 100);
        Assert.Equal((5L, 0), (idle.Head, idle.Effects.Count)); // the sequence goes on after everything was forgotten
        await log.AppendAsync(3, 6, 11_000, Ids(60), new byte[] { 6 });

        // Appends of many partitions at once share transactions; one that conflicts fails alone.
        var together = Enumerable.Range(10, 20).Select(p => log.AppendAsync(p, 1, 12_000, Ids((ulong)p), new[] { (byte)p }))
            .Append(log.AppendAsync(3, 6, 12_000, Ids(1), new byte[] { 1 })).ToList();
        await Assert.ThrowsAsync<PartitionLogConflictException>(() => together[^1]);
        await Task.WhenAll(together.SkipLast(1));
        for (var p = 10; p < 30; p++)
        {
            var row = Assert.Single((await log.RecoverAsync(p, 0, 100)).Effects);
            Assert.Equal((1L, (byte)p), (row.Sequence, row.Body.Single()));
        }
        var kept = await log.RecoverAsync(3, 11_000, 100);
        Assert.Equal([60UL], MemoryMarshal.Cast<byte, ulong>(kept.Ids.Single().IdHashes).ToArray());

        Assert.Equal(1, (await log.RecoverAsync(4, 0, 100)).Head);
        var other = await open("b").RecoverAsync(3, 0, 100);
        Assert.Equal([77UL], MemoryMarshal.Cast<byte, ulong>(other.Ids.Single().IdHashes).ToArray());
    }
}
