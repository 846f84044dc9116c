using System.Text;
using Grpc.Core;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// Calls larger than Gateway:MaxRequestBytes (16 MiB) are refused from their length prefix with the limit and the
/// size named, and reviewctl send splits its batches by bytes so that any file of valid reviews goes through.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class RequestLimitTests(PlatformClusterFixture fixture)
{
    private const int DefaultLimit = 16 * 1024 * 1024;

    private readonly PlatformCluster _platform = fixture.Platform;

    /// <summary>Reviews with bodies of about <paramref name="bodyBytes"/> ASCII bytes (the limit is 64 KiB) and ids of their own.</summary>
    private static List<ReviewMessage> LongReviews(string category, int count, int bodyBytes, int seed)
    {
        var reviews = TestReviews.Generate(category, count, seed);
        for (var i = 0; i < reviews.Count; i++)
        {
            var body = new StringBuilder(bodyBytes + 200);
            while (body.Length < bodyBytes)
            {
                body.Append(reviews[i].ReviewBody).Append(' ');
            }
            reviews[i].ReviewBody = body.ToString(0, bodyBytes);
            reviews[i].ReviewId = $"{category}-{i}";
        }
        return reviews;
    }

    [Fact]
    public async Task PutReviews_30MegabyteCall_ResourceExhaustedNamingLimitAndSize_NothingIngested()
    {
        var category = TestReviews.NewCategory("oversized-call");
        var request = TestReviews.Request(LongReviews(category, 500, 60_000, seed: 91));
        var size = request.CalculateSize();
        Assert.InRange(size, 30_000_000, 31_000_000);

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _platform.Gateway.PutReviewsAsync(request));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal($"request: a message of {size:N0} bytes exceeds the gateway's limit of {DefaultLimit:N0} bytes (Gateway:MaxRequestBytes); " +
            "send fewer records per call (reviewctl send splits its batches by bytes)", ex.Status.Detail);
        Assert.False(await _platform.Grains.GetGrain<ICategoryDirectoryGrain>(0).Contains(category));
    }

    [Fact]
    public async Task PutReviewStream_OversizedLaterMessage_ResourceExhaustedNamingLimit_EarlierRecordsStayAccepted()
    {
        var category = TestReviews.NewCategory("oversized-stream");
        var reviews = LongReviews(category, 302, 60_000, seed: 92);

        using var call = _platform.Gateway.PutReviewStream();
        await call.RequestStream.WriteAsync(TestReviews.Request(reviews.Take(2)));
        try
        {
            await call.RequestStream.WriteAsync(TestReviews.Request(reviews.Skip(2)));
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may end the call while the oversized message is still being written; its answer follows.
        }
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        var size = TestReviews.Request(reviews.Skip(2)).CalculateSize();
        Assert.Equal($"request: a message of {size:N0} bytes exceeds the gateway's limit of {DefaultLimit:N0} bytes (Gateway:MaxRequestBytes); " +
            "send fewer records per call (reviewctl send splits its batches by bytes); the 2 records accepted from earlier messages of this stream stay accepted",
            ex.Status.Detail);
        await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
        }, r => r.Windows.Sum(w => w.Count) == 2, $"the 2 accepted reviews in the windows of {category}");
    }

    [Fact]
    public async Task PutReviews_MoreThanOneMebibyteForOnePartition_AllCounted()
    {
        // A partition's share above 1 MiB used to fail the memory stream's cache on every read, which stalled that
        // queue for good with no dead letter; the gateway now publishes it as several batches.
        var category = TestReviews.NewCategory("large-share");
        var reviews = LongReviews(category, 100, 60_000, seed: 94);

        var response = await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews));

        Assert.Equal(100, response.AcceptedRecordCount);
        await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetCountsAsync(new GetCountsRequest());
        }, r => r.PerCategory.GetValueOrDefault(category) == 100, $"100 reviews of {category} counted");
    }

    [Fact]
    public async Task ReviewCtlSend_600ReviewsOf60Kilobytes_DefaultSettings_AllDelivered()
    {
        var category = TestReviews.NewCategory("long-send");
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, LongReviews(category, 600, 60_000, seed: 93).Select(ReviewJsonWriter.ToJson));

            var (exitCode, output) = await SiloProcess.RunToExitAsync(["tools", "ReviewCtl", "reviewctl.dll"],
                ["send", file, "--gateway", _platform.GatewayAddress.ToString()], new Dictionary<string, string>());

            Assert.True(exitCode == 0, output);
            Assert.Contains("accepted: 600   failed: 0", output);
            await Eventually.Get(async () =>
            {
                await _platform.FlushAsync(category);
                return await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
            }, r => r.Windows.Sum(w => w.Count) + r.LateReviews == 600,
                // Scoring 60 KB reviews takes this cluster's 1 s windows past their 0.5 s lateness: some arrive late.
                $"600 reviews in the windows of {category} or counted late there", TimeSpan.FromSeconds(60));
            var counts = await _platform.Gateway.GetCountsAsync(new GetCountsRequest());
            Assert.Equal(600, counts.PerCategory[category]);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
