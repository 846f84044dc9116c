using System.Diagnostics;
using System.Text.Json;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Platform.Tests;

/// <summary>The real reviewctl executable, run as a process against the running test cluster's gateway.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ReviewCtlTests(PlatformClusterFixture fixture)
{
    private readonly PlatformCluster _platform = fixture.Platform;

    /// <summary>reviewctl from its own build output: its deps.json describes that folder, not this one.</summary>
    private static readonly Lazy<string> ReviewCtlPath = new(() => BuildOutput.Find("tools", "ReviewCtl", "reviewctl.dll"));

    private Task<(int ExitCode, string Output, string Error)> ReviewCtl(params string[] args) =>
        RunReviewCtl([.. args, "--gateway", _platform.GatewayAddress.ToString()]);

    internal static async Task<(int ExitCode, string Output, string Error)> RunReviewCtl(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ReviewCtlPath.Value);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Theory]
    [InlineData("version")]
    [InlineData("send")]
    [InlineData("generate")]
    [InlineData("categories")]
    [InlineData("category")]
    [InlineData("counts")]
    [InlineData("anomaly")]
    [InlineData("priority")]
    [InlineData("ack")]
    [InlineData("deadletters")]
    [InlineData("watch")]
    [InlineData("cluster")]
    [InlineData("model")]
    [InlineData("model", "train")]
    [InlineData("model", "eval")]
    [InlineData("rcf")]
    [InlineData("hll")]
    [InlineData("bench")]
    [InlineData("bench", "rcf")]
    [InlineData("bench", "hll")]
    [InlineData("bench", "sentiment")]
    [InlineData("db")]
    [InlineData("db", "init")]
    [InlineData("db", "status")]
    [InlineData("db", "forget-settings")]
    public async Task EveryCommandAndSubcommand_AnswersHelp_WithItsUsage(params string[] command)
    {
        var (exitCode, output, error) = await RunReviewCtl([.. command, "--help"]);
        Assert.True(exitCode == 0, $"reviewctl {string.Join(' ', command)} --help exited {exitCode}: {error}");
        Assert.StartsWith("usage: reviewctl " + command[0], output.TrimStart());
        if (command.Length > 1)
        {
            Assert.Contains(command[1], output);
        }
    }

    [Fact]
    public async Task GenerateThenSend_JsonlWithMalformedRecords_ReportsAcceptedAndFailedWithReasons()
    {
        var file = Path.GetTempFileName();
        try
        {
            var generated = await ReviewCtl("generate", "--count", "200", "--seed", "31", "--inject", "malformed:8");
            Assert.Equal(0, generated.ExitCode);
            await File.WriteAllTextAsync(file, generated.Output);
            Assert.Equal(208, generated.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

            var sent = await ReviewCtl("send", file, "--json");

            Assert.Equal(3, sent.ExitCode); // some records failed
            using var summary = JsonDocument.Parse(sent.Output);
            Assert.Equal("Jsonl", summary.RootElement.GetProperty("format").GetString());
            Assert.Equal(200, summary.RootElement.GetProperty("accepted").GetInt32());
            Assert.Equal(8, summary.RootElement.GetProperty("failed").GetInt32());
            var codes = summary.RootElement.GetProperty("failures_by_code");
            Assert.Equal(2, codes.GetProperty("review_id.required").GetInt32());
            Assert.Equal(2, codes.GetProperty("star_rating.out_of_range").GetInt32());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Category_AfterReferenceTsvSend_PrintsWindowsAsJson()
    {
        var category = TestReviews.NewCategory("ctl");
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, TestReviews.Generate(category, 25, seed: 32)
                .Select(r => $"{r.ReviewId}\t{r.ProductCategory}\t{r.ReviewBody}"));
            var sent = await ReviewCtl("send", file);
            Assert.Equal(0, sent.ExitCode);
            Assert.Contains("accepted: 25", sent.Output);

            await Eventually.Get(async () =>
            {
                await _platform.FlushAsync(category);
                return await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 100 });
            }, r => r.Windows.Sum(w => w.Count) == 25, "25 reviews in windows");

            var shown = await ReviewCtl("category", category, "--last", "100", "--json");
            Assert.Equal(0, shown.ExitCode);
            using var json = JsonDocument.Parse(shown.Output);
            Assert.Equal(25, json.RootElement.GetProperty("windows").EnumerateArray().Sum(w => long.Parse(w.GetProperty("count").GetString()!)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Send_TsvHeaderInAnotherOrder_ReadAsAmazonTsvNotAsAReview()
    {
        // The header used to be recognised only when it began with "marketplace": otherwise it went out as a
        // reference-TSV review and every row's star rating ended up in its body.
        var category = TestReviews.NewCategory("ctl-tsv");
        var file = Path.GetTempFileName();
        try
        {
            var reviews = TestReviews.Generate(category, 3, seed: 33);
            await File.WriteAllLinesAsync(file, ["review_id\tproduct_category\treview_body\tstar_rating",
                .. reviews.Select(r => $"{r.ReviewId}\t{r.ProductCategory}\t{r.ReviewBody}\t9")]);
            var sent = await ReviewCtl("send", file);
            Assert.Equal(3, sent.ExitCode); // every row refused for its star rating, as the column says, none sent as the header
            Assert.Contains("accepted: 0", sent.Output);
            Assert.Contains("star_rating.out_of_range", sent.Output + sent.Error);

            await File.WriteAllLinesAsync(file, ["marketplace\treview_id\tproduct_category"]);
            var missing = await ReviewCtl("send", file);
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("lacks required column(s): review_body", missing.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Ack_UnknownReview_ExitCode1WithNotFound()
    {
        var result = await ReviewCtl("ack", "no-such-review");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("NotFound", result.Error);
        Assert.Contains("review_id", result.Error);
    }

    [Fact]
    public async Task Send_MissingFile_ExitCode2WithClearMessage()
    {
        var result = await ReviewCtl("send", "/no/such/file.jsonl");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("file not found", result.Error);
    }
    [Theory]
    [InlineData("--pooling", "max", "--pooling must be mean or sqrt")]
    [InlineData("--max-words", "100000", "--max-words must be at most 4096")]
    [InlineData("--ensemble", "0", "--ensemble at least 1")]
    public async Task ModelTrain_SettingTheScorerWouldRefuse_ExitCode2BeforeTraining(string option, string value, string message)
    {
        // Checked first: the run would otherwise train, then overwrite the default model with one that cannot load.
        var result = await RunReviewCtl("model", "train", option, value, "--out", Path.Combine(Path.GetTempPath(), $"never-{Guid.NewGuid():N}"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error);
    }
}
