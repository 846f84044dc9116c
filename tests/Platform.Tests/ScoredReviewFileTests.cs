using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ReviewOrleans.Delivery;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// The file destination (gzip JSON lines, rotation by size and age, recovery of a crashed writer's file) and the
/// errors store, on a fake clock and a scratch folder: no cluster, no sleeps.
/// </summary>
public sealed class ScoredReviewFileTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 14, 10, 59, 30, TimeSpan.Zero);

    [Fact]
    public async Task FilesRotateBySizeAndHoldEveryRecordOnce()
    {
        using var scratch = new ScratchDirectory("scored-files-");
        var clock = new FakeTimeProvider(Start);
        const long maxBytes = 2_000;
        var records = TestScoredReviews.Records(1, 120);

        var destination = new GzipJsonlFileDestination(scratch.Path, maxBytes, TimeSpan.FromHours(1), clock);
        foreach (var batch in records.Chunk(10))
        {
            await destination.DeliverAsync(batch, CancellationToken.None);
        }
        await destination.DisposeAsync();

        var files = AllFiles(scratch.Path);
        Assert.All(files, f => Assert.EndsWith(".jsonl.gz", f, StringComparison.Ordinal));
        Assert.All(files, f => Assert.Equal(HourFolder(scratch.Path, Start), Path.GetDirectoryName(f)));
        Assert.All(files, f => Assert.StartsWith("scored-20250314T105930000Z-", Path.GetFileName(f), StringComparison.Ordinal));
        Assert.True(files.Count > 1, $"expected several files, got {files.Count}");
        // Size is checked before each batch, so every file but the one disposal closed reached the limit.
        Assert.True(files.Count(f => new FileInfo(f).Length < maxBytes) <= 1);

        TestScoredReviews.AssertSameRecords(records, files.SelectMany(TestScoredReviews.ReadRecords).ToList());
    }

    [Fact]
    public async Task FilesRotateByAgeIntoTheNewHoursFolder()
    {
        using var scratch = new ScratchDirectory("scored-files-");
        var clock = new FakeTimeProvider(Start);
        var first = TestScoredReviews.Records(1, 5);
        var second = TestScoredReviews.Records(6, 5);

        var destination = new GzipJsonlFileDestination(scratch.Path, long.MaxValue, TimeSpan.FromMinutes(1), clock);
        await destination.DeliverAsync(first, CancellationToken.None);
        var firstOpen = destination.OpenFilePath;
        Assert.NotNull(firstOpen);
        Assert.EndsWith(".jsonl.gz.open", firstOpen, StringComparison.Ordinal);
        Assert.Equal(HourFolder(scratch.Path, Start), Path.GetDirectoryName(firstOpen));
        Assert.True(File.Exists(firstOpen + ".length"));

        clock.Advance(TimeSpan.FromSeconds(30));
        destination.RotateIfDue();
        Assert.Equal(firstOpen, destination.OpenFilePath);

        clock.Advance(TimeSpan.FromSeconds(31));
        destination.RotateIfDue();
        Assert.Null(destination.OpenFilePath);
        var firstFinished = firstOpen[..^".open".Length];
        Assert.False(File.Exists(firstOpen));
        Assert.False(File.Exists(firstOpen + ".length"));
        Assert.True(File.Exists(firstFinished));

        await destination.DeliverAsync(second, CancellationToken.None);
        var secondOpen = destination.OpenFilePath;
        Assert.NotNull(secondOpen);
        Assert.NotEqual(firstOpen, secondOpen);
        // 10:59:30 + 61 s: the new file belongs to 11:00, not to the hour the first was begun in.
        Assert.Equal(HourFolder(scratch.Path, Start.AddSeconds(61)), Path.GetDirectoryName(secondOpen));
        Assert.EndsWith(Path.Combine("2025", "03", "14", "11"), Path.GetDirectoryName(secondOpen)!, StringComparison.Ordinal);
        await destination.DisposeAsync();

        var secondFinished = secondOpen[..^".open".Length];
        Assert.Equal([firstFinished, secondFinished], AllFiles(scratch.Path));
        TestScoredReviews.AssertSameRecords(first, TestScoredReviews.ReadRecords(firstFinished));
        TestScoredReviews.AssertSameRecords(second, TestScoredReviews.ReadRecords(secondFinished));
    }

    [Fact]
    public async Task ACrashedWritersFileLosesItsTornMemberAndIsFinished()
    {
        using var scratch = new ScratchDirectory("scored-files-");
        var clock = new FakeTimeProvider(Start);
        var first = TestScoredReviews.Records(1, 7);
        var second = TestScoredReviews.Records(8, 7);

        var crashed = new GzipJsonlFileDestination(scratch.Path, long.MaxValue, TimeSpan.FromHours(1), clock);
        await crashed.DeliverAsync(first, CancellationToken.None);
        await crashed.DeliverAsync(second, CancellationToken.None);
        var open = crashed.OpenFilePath!;
        crashed.SimulateCrash();
        var committed = new FileInfo(open).Length;
        Assert.Equal(committed, BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(open + ".length")));

        // A member cut short: a gzip header and a few bytes of deflate, no trailer.
        using (var file = new FileStream(open, FileMode.Append, FileAccess.Write))
        {
            file.Write([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56, 0x2a, 0x4a]);
        }

        await using (var recovered = new GzipJsonlFileDestination(scratch.Path, long.MaxValue, TimeSpan.FromHours(1), clock))
        {
            Assert.Null(recovered.OpenFilePath);
        }

        var finished = open[..^".open".Length];
        Assert.Equal([finished], AllFiles(scratch.Path));
        Assert.Equal(committed, new FileInfo(finished).Length);
        TestScoredReviews.AssertSameRecords([.. first, .. second], TestScoredReviews.ReadRecords(finished));
    }

    [Fact]
    public async Task AnOpenFileWithoutItsSidecarIsFinishedAsIsOrDeletedWhenEmpty()
    {
        using var scratch = new ScratchDirectory("scored-files-");
        var clock = new FakeTimeProvider(Start);
        var records = TestScoredReviews.Records(1, 4);

        var crashed = new GzipJsonlFileDestination(scratch.Path, long.MaxValue, TimeSpan.FromHours(1), clock);
        await crashed.DeliverAsync(records, CancellationToken.None);
        var open = crashed.OpenFilePath!;
        crashed.SimulateCrash();
        File.Delete(open + ".length");
        var empty = Path.Combine(Path.GetDirectoryName(open)!, "scored-20250314T105930000Z-00000000.jsonl.gz.open");
        File.WriteAllBytes(empty, []);

        await new GzipJsonlFileDestination(scratch.Path, long.MaxValue, TimeSpan.FromHours(1), clock).DisposeAsync();

        var finished = open[..^".open".Length];
        Assert.Equal([finished], AllFiles(scratch.Path));
        TestScoredReviews.AssertSameRecords(records, TestScoredReviews.ReadRecords(finished));
    }

    [Fact]
    public async Task TheErrorStoreWritesEachRecordWithItsReason()
    {
        using var scratch = new ScratchDirectory("delivery-errors-");
        var clock = new FakeTimeProvider(Start);
        var records = TestScoredReviews.Records(1, 3);
        const string reason = "postgresql: connection refused";

        var path = await new DeliveryErrorStore(scratch.Path, clock).WriteAsync("postgresql", records, reason);

        Assert.Equal(HourFolder(scratch.Path, Start), Path.GetDirectoryName(path));
        Assert.StartsWith("postgresql-20250314T105930000Z-", Path.GetFileName(path), StringComparison.Ordinal);
        Assert.EndsWith(".jsonl.gz", path, StringComparison.Ordinal);
        Assert.Equal([path], AllFiles(scratch.Path));

        var lines = TestScoredReviews.ReadLines(path);
        Assert.Equal(records.Count, lines.Count);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.Equal(reason, json.RootElement.GetProperty("error").GetString());
        }
        TestScoredReviews.AssertSameRecords(records, [.. lines.Select(l => ScoredReviewJson.Read(l))]);
    }

    private static string HourFolder(string root, DateTimeOffset time) =>
        Path.Combine(root, time.UtcDateTime.ToString("yyyy/MM/dd/HH", CultureInfo.InvariantCulture).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Every file left under the root: only finished data files may remain (no .open, sidecar or .tmp).</summary>
    private static List<string> AllFiles(string root) =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
}
