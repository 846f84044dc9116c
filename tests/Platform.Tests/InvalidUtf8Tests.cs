using System.Text;
using Google.Protobuf;
using Grpc.Core;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// Text that is not UTF-8 on the wire is refused with <c>&lt;field&gt;.invalid_utf8</c> and dead-lettered, instead of
/// being read as U+FFFD (a category "Books\uFFFD" of its own); the other records of the call go through.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class InvalidUtf8Tests(PlatformClusterFixture fixture)
{
    private readonly PlatformCluster _platform = fixture.Platform;

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    private static readonly Marshaller<PutReviewsResponse> Response =
        Marshallers.Create(r => r.ToByteArray(), PutReviewsResponse.Parser.ParseFrom);

    private const string Marker = "~BAD~";

    /// <summary>
    /// The request's bytes with the second byte of each <see cref="Marker"/> replaced by <paramref name="replacement"/>:
    /// a byte for a byte, so the framing stays valid while the text does not.
    /// </summary>
    private static byte[] WithByte(PutReviewsRequest request, byte replacement)
    {
        var bytes = request.ToByteArray();
        var marker = Encoding.ASCII.GetBytes(Marker);
        var replaced = 0;
        for (var at = bytes.AsSpan().IndexOf(marker); at >= 0; at = bytes.AsSpan().IndexOf(marker))
        {
            bytes[at + 1] = replacement;
            replaced++;
        }
        Assert.True(replaced > 0, "the request holds no marker");
        return bytes;
    }

    private PutReviewsRequest Request(string category, string idPrefix, int seed)
    {
        var reviews = TestReviews.Generate(category, 2, seed);
        reviews[0].ReviewId = $"{idPrefix}-good";
        reviews[1].ReviewId = $"{idPrefix}-category";
        reviews[1].ProductCategory = category + Marker;
        var request = TestReviews.Request(reviews);
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"{{idPrefix}}-json","product_category":"{{category}}","review_body":"caf{{Marker}} ok"}""" });
        return request;
    }

    [Fact]
    public async Task PutReviews_NotUtf8InACategoryAndInJson_RefusedWithTheRuleAndDeadLettered_OthersAccepted()
    {
        var category = TestReviews.NewCategory("utf8");
        var method = new Method<byte[], PutReviewsResponse>(MethodType.Unary, ReviewGateway.Descriptor.FullName, "PutReviews", Raw, Response);

        var response = await _platform.Channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(),
            WithByte(Request(category, category, seed: 99), 0xFF));

        Assert.Equal(["", "product_category.invalid_utf8", "json.invalid_utf8"], response.Records.Select(r => r.ErrorCode));
        Assert.Equal($"{category}-category", response.Records[1].ReviewId);
        var offset = Encoding.UTF8.GetByteCount(category) + 1;
        Assert.Equal($"product_category: holds bytes that are not UTF-8 (the first at byte {offset} of the field); send text as UTF-8", response.Records[1].ErrorMessage);
        Assert.Equal(1, response.AcceptedRecordCount);
        var deadLetters = await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 10_000 });
        }, d => d.DeadLetters.Any(x => x.ReviewId == $"{category}-category"), "the refusal in the dead letters");
        Assert.Contains(deadLetters.DeadLetters, d => d.ReviewId == $"{category}-category" && d.Field == "product_category" && d.Rule == "invalid_utf8" && d.Stage == "gateway");
        Assert.Contains(deadLetters.DeadLetters, d => d.Field == "json" && d.Rule == "invalid_utf8" && d.Raw.Contains(category, StringComparison.Ordinal));
        await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
        }, r => r.Windows.Sum(w => w.Count) + r.LateReviews == 1, "the good review counted");
        Assert.DoesNotContain((await _platform.Gateway.ListCategoriesAsync(new ListCategoriesRequest())).Categories, c => c.StartsWith(category + "\uFFFD", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutReviewStream_NotUtf8InTheSecondMessage_OnlyThatMessagesRecordRefused()
    {
        var category = TestReviews.NewCategory("utf8-stream");
        var method = new Method<byte[], PutReviewsResponse>(MethodType.ClientStreaming, ReviewGateway.Descriptor.FullName, "PutReviewStream", Raw, Response);
        var clean = TestReviews.Generate(category, 3, seed: 100);
        for (var i = 0; i < clean.Count; i++)
        {
            clean[i].ReviewId = $"{category}-clean-{i}";
        }

        using var call = _platform.Channel.CreateCallInvoker().AsyncClientStreamingCall(method, null, new CallOptions());
        await call.RequestStream.WriteAsync(TestReviews.Request(clean).ToByteArray());
        // A lone continuation byte: not UTF-8 either.
        await call.RequestStream.WriteAsync(WithByte(Request(category, $"{category}-second", seed: 101), 0x80));
        await call.RequestStream.CompleteAsync();
        var summary = await call;

        Assert.Equal(4, summary.AcceptedRecordCount);
        Assert.Equal(["product_category.invalid_utf8", "json.invalid_utf8"], summary.Records.Select(r => r.ErrorCode));
        Assert.Equal($"{category}-second-category", summary.Records[0].ReviewId);
    }

    [Fact]
    public async Task ReviewCtlSend_LineNotUtf8_ReportedWithItsLineNumber_OtherLinesSent()
    {
        var category = TestReviews.NewCategory("utf8-file");
        var lines = TestReviews.Generate(category, 3, seed: 102).Select((r, i) =>
        {
            r.ReviewId = $"{category}-{i}";
            return Encoding.UTF8.GetBytes(ReviewJsonWriter.ToJson(r) + "\n");
        }).ToList();
        lines[1] = [.. lines[1].Take(lines[1].Length - 10), 0xC3, 0x28, .. lines[1].Skip(lines[1].Length - 10).Skip(2)];
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, [.. lines.SelectMany(l => l)]);

            var (exitCode, output) = await SiloProcess.RunToExitAsync(["tools", "ReviewCtl", "reviewctl.dll"],
                ["send", file, "--gateway", _platform.GatewayAddress.ToString()], new Dictionary<string, string>());

            Assert.Equal(3, exitCode);
            Assert.Contains("accepted: 2   failed: 1", output);
            Assert.Contains("line.invalid_utf8", output);
            Assert.Contains($"line 2: bytes that are not UTF-8 (the first at byte {lines[1].Length - 10} of the line); the line was not sent", output);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
