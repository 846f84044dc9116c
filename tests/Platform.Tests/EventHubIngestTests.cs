using System.Globalization;
using System.Text;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Hosting.Ingestion;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// Reviews from producers' events through Microsoft.Orleans.Streaming.EventHubs, its receivers reading archived
/// partition files (<see cref="FileEventHubAdapterFactory"/>): Orleans' own cache, checkpointing and redelivery, the
/// plain-event data adapter, checkpoints in the platform's SQLite file. Every review counted once across a restart
/// that resumes at the checkpoints; bad events dead-lettered with their partition, offset and sequence number.
/// </summary>
public sealed class EventHubIngestTests
{
    private static Dictionary<string, string> Settings(string files) => new()
    {
        ["Ingest:EventHubs:FilesPath"] = files,
        ["Ingest:EventHubs:LinesPerEvent"] = "40",
        ["Ingest:EventHubs:CheckpointInterval"] = "00:00:01",
        ["Ingest:EventHubs:CacheMaxAge"] = "00:00:02",
    };

    [Fact]
    public async Task RestartResumesAtTheCheckpoints_EveryReviewCountedOnce_BadLinesDeadLetteredWithTheirOffsets()
    {
        using var directory = new ScratchDirectory("revieworleans-eventhub-");
        var files = Path.Combine(directory.Path, "hub");
        Directory.CreateDirectory(files);
        var serviceId = $"eventhub-{Guid.NewGuid():N}";
        var json = TestReviews.Generate(TestReviews.NewCategory("eh-json"), 1_200, seed: 81);
        var tsv = TestReviews.Generate(TestReviews.NewCategory("eh-tsv"), 600, seed: 82);
        var jsonFile = Path.Combine(files, "p0.jsonl");
        var tsvFile = Path.Combine(files, "p1.tsv");

        // The first half of each partition, with one line of each that no review can be read from.
        await File.WriteAllTextAsync(jsonFile, JsonLines(json[..600]) + "{\"review_id\": \"broken\n");
        await File.WriteAllTextAsync(tsvFile, string.Join('\t', ReviewParser.AmazonTsvColumns) + "\n" + TsvLines(tsv[..300]) + "only\tthree\tfields\n");
        await using (var first = await PlatformCluster.StartAsync(directory.File("state.db"), serviceId, Settings(files), silos: 1))
        {
            var counts = await Eventually.Get(() => first.Gateway.GetCountsAsync(new GetCountsRequest()).ResponseAsync,
                c => c.TotalReviews >= 900 && c.RejectedReviews >= 2, "the first halves counted, two lines refused", TimeSpan.FromSeconds(60));
            Assert.Equal((900, 2L), (counts.TotalReviews, counts.RejectedReviews));
            Assert.Equal(0, counts.DuplicateReviews);
            var deadLetters = (await first.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 10 })).DeadLetters;
            var broken = Assert.Single(deadLetters, d => d.Raw.Contains("partition p0.jsonl", StringComparison.Ordinal));
            Assert.Equal(("eventhub", "record", "invalid_json"), (broken.Stage, broken.Field, broken.Rule));
            // The 601st line opens the 16th event (40 lines each): offset and sequence 601, its first line.
            Assert.StartsWith("files partition p0.jsonl offset 601 sequence 601 line 1: {\"review_id\": \"broken", broken.Raw);
            var shortRow = Assert.Single(deadLetters, d => d.Raw.Contains("partition p1.tsv", StringComparison.Ordinal));
            Assert.Equal(("eventhub", "bad_tsv"), (shortRow.Stage, shortRow.Rule));
            // The header is line 1, then data lines 2-301: the bad row (line 302) is in the 8th event, which opens at line 282
            // and repeats the header at its top (so it is that event's 22nd line).
            Assert.StartsWith("files partition p1.tsv offset 282 sequence 282 line 22: only\tthree\tfields", shortRow.Raw);
        }

        // The producers wrote on while the silo was down, and go on after it started again: the rest of each partition.
        await File.AppendAllTextAsync(jsonFile, JsonLines(json[600..1_000]));
        await File.AppendAllTextAsync(tsvFile, TsvLines(tsv[300..500]));
        await using var second = await PlatformCluster.StartAsync(directory.File("state.db"), serviceId, Settings(files), silos: 1);
        await Eventually.Get(() => second.Gateway.GetCountsAsync(new GetCountsRequest()).ResponseAsync,
            c => c.TotalReviews >= 1_500, "what was written while the silo was down", TimeSpan.FromSeconds(60));
        await File.AppendAllTextAsync(jsonFile, JsonLines(json[1_000..]));
        await File.AppendAllTextAsync(tsvFile, TsvLines(tsv[500..]));
        var total = await Eventually.Get(() => second.Gateway.GetCountsAsync(new GetCountsRequest()).ResponseAsync,
            c => c.TotalReviews >= 1_800, "both partitions counted to their end", TimeSpan.FromSeconds(60));
        // Resumed at the checkpoints, each the last event read, which is read again (inclusively, as from a hub). Both
        // were the short last events of their files, read again with the lines appended since: the 20 reviews p1.tsv's
        // had are recognised as duplicates, its bad rows are not refused twice, and no review counts twice.
        Assert.Equal((1_800, 20L, 2L), (total.TotalReviews, total.DuplicateReviews, total.RejectedReviews));
        foreach (var (category, expected) in new[] { (json[0].ProductCategory, 1_200), (tsv[0].ProductCategory, 600) })
        {
            var windows = await Eventually.Get(async () =>
            {
                await second.FlushAsync(category);
                return await second.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1_000 });
            }, h => h.Windows.Sum(w => w.Count) + h.LateReviews >= expected, $"{category}'s windows closed", TimeSpan.FromSeconds(60));
            Assert.Equal(expected, windows.Windows.Sum(w => w.Count) + windows.LateReviews);
        }
        Assert.Equal(2L, (await second.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 10 })).Total);
    }

    [Fact]
    public void Settings_AreCheckedAtStart_WithTheSettingNamed()
    {
        var horizon = TimeSpan.FromMinutes(10);
        var both = new EventHubIngestOptions { ConnectionString = "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s", EventHubName = "h", FilesPath = "/tmp" };
        Assert.Contains("set ConnectionString (a hub) or FilesPath (archived files), not both", Assert.ThrowsAny<Exception>(() => both.Validate(horizon)).Message);
        var noHub = new EventHubIngestOptions { ConnectionString = "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s" };
        Assert.Contains("EventHubName is required", Assert.ThrowsAny<Exception>(() => noHub.Validate(horizon)).Message);
        var badStart = new EventHubIngestOptions { FilesPath = "/tmp", StartPosition = "yesterday" };
        Assert.Contains("StartPosition 'yesterday' is not earliest, latest or a time", Assert.ThrowsAny<Exception>(() => badStart.Validate(horizon)).Message);
        var tooLong = new EventHubIngestOptions { FilesPath = "/tmp", CacheMaxAge = TimeSpan.FromMinutes(5) };
        Assert.Contains("must stay under half of Pipeline:DedupHorizon", Assert.ThrowsAny<Exception>(() => tooLong.Validate(horizon)).Message);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T00:00:00Z", CultureInfo.InvariantCulture),
            new EventHubIngestOptions { StartPosition = "2026-12-01T00:00:00Z" }.StartTime);
    }

    private static string JsonLines(IEnumerable<ReviewMessage> reviews) =>
        string.Concat(reviews.Select(r => ReviewJsonWriter.ToJson(r) + "\n"));

    private static string TsvLines(IEnumerable<ReviewMessage> reviews)
    {
        var text = new StringBuilder();
        foreach (var r in reviews)
        {
            text.AppendJoin('\t', "US", "c1", r.ReviewId, "p1", "1", "title", r.ProductCategory, r.StarRating?.ToString(CultureInfo.InvariantCulture) ?? "",
                "0", "0", "N", "Y", "headline", r.ReviewBody.Replace('\t', ' ').Replace('\n', ' '), "2015-08-31").Append('\n');
        }
        return text.ToString();
    }
}
