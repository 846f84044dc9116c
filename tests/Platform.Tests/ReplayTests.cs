using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// <c>reviewctl replay DIR</c>: archived partition files through the gateway's PutEvents into the Event Hubs ingest
/// path. Every review counted, bad lines dead-lettered with file and line, and a second replay of the same files
/// counts nothing twice.
/// </summary>
public sealed class ReplayTests
{
    [Fact]
    public async Task ReplayedFiles_CountedOnce_BadLinesDeadLettered_ReplayingAgainCountsNothingTwice()
    {
        using var directory = new ScratchDirectory("revieworleans-replay-");
        var archive = Path.Combine(directory.Path, "archive");
        Directory.CreateDirectory(Path.Combine(archive, "p1"));
        var reviews = TestReviews.Generate(TestReviews.NewCategory("replay"), 900, seed: 91);
        await File.WriteAllTextAsync(Path.Combine(archive, "p0.jsonl"),
            string.Concat(reviews[..500].Select(r => ReviewJsonWriter.ToJson(r) + "\n")) + "not a review\n");
        // A partition may be a folder of files, read in name order.
        await File.WriteAllTextAsync(Path.Combine(archive, "p1", "a.jsonl"), string.Concat(reviews[500..700].Select(r => ReviewJsonWriter.ToJson(r) + "\n")));
        await File.WriteAllTextAsync(Path.Combine(archive, "p1", "b.jsonl"), string.Concat(reviews[700..].Select(r => ReviewJsonWriter.ToJson(r) + "\n")));
        await using var platform = await PlatformCluster.StartAsync(directory.File("state.db"), $"replay-{Guid.NewGuid():N}");
        string[] replay = ["replay", archive, "--lines-per-event", "30", "--gateway", platform.GatewayAddress.ToString()];

        var (exitCode, output, error) = await ReviewCtlTests.RunReviewCtl(replay);
        Assert.True(exitCode == 3, $"exit {exitCode}: {output}{error}"); // some refused
        Assert.Contains("from 2 partition(s)", output);
        Assert.Contains("900 reviews accepted", output);
        Assert.Contains("1 refused", output);
        var counts = await Eventually.Get(() => platform.Gateway.GetCountsAsync(new GetCountsRequest()).ResponseAsync,
            c => c.PerCategory.GetValueOrDefault(reviews[0].ProductCategory) >= 900, "the replayed reviews counted", TimeSpan.FromSeconds(60));
        Assert.Equal(900, counts.PerCategory[reviews[0].ProductCategory]);
        var deadLetter = Assert.Single((await platform.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 5 })).DeadLetters,
            d => d.Raw.Contains("partition p0.jsonl", StringComparison.Ordinal));
        Assert.Equal(("replay", "record.unknown_format"), (deadLetter.Stage, $"{deadLetter.Field}.{deadLetter.Rule}"));
        // Line 501 is the 17th event's (30 lines each, from line 1: 481-510), its 21st line.
        Assert.StartsWith("replay partition p0.jsonl offset 481 sequence 481 line 21: not a review", deadLetter.Raw);

        // The same archive again: its events are recognised, so nothing is counted, not even as a duplicate. Each
        // partition's events went out in calls of up to 50 (reviewctl's default), each call as one batch per review
        // partition it had reviews for; every one of those batches comes back a replay.
        var partitions = new[] { reviews[..500].Chunk(30), reviews[500..700].Chunk(30).Concat(reviews[700..].Chunk(30)) };
        var batches = partitions.Sum(events => events.Chunk(50).Sum(call =>
            call.SelectMany(e => e).Select(r => StreamNames.PartitionOf(r.ReviewId, PlatformCluster.Partitions)).Distinct().Count()));
        async Task<long> Replayed() => (await Task.WhenAll(Enumerable.Range(0, PlatformCluster.Partitions)
            .Select(p => platform.Grains.GetGrain<IReviewPartitionGrain>(p).GetStats()))).Sum(s => s.ReplayedBatches);
        var replayedBefore = await Replayed();
        (exitCode, output, error) = await ReviewCtlTests.RunReviewCtl(replay);
        Assert.True(exitCode == 3, $"exit {exitCode}: {output}{error}");
        Assert.Equal(replayedBefore + batches, await Eventually.Get(Replayed, n => n >= replayedBefore + batches, $"the {batches} batches recognised as replays", TimeSpan.FromSeconds(60)));
        await platform.FlushAsync();
        var again = await platform.Gateway.GetCountsAsync(new GetCountsRequest());
        Assert.Equal((counts.TotalReviews, counts.DuplicateReviews, counts.RejectedReviews), (again.TotalReviews, again.DuplicateReviews, again.RejectedReviews));
    }
}
