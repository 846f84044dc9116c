using System.Diagnostics;
using System.Text;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Silo;

namespace ReviewOrleans.Platform.Tests;

/// <summary>Events as producers write them: one JSON object, JSON lines, Amazon TSV with or without its header.</summary>
public sealed class ReviewEventBodyTests
{
    private const string Review = """{"review_id":"R1","product_category":"Books","review_body":"Great read"}""";

    [Fact]
    public void OneJsonObject_PrettyPrinted_IsOneReview()
    {
        var reviews = ReviewEventBody.Parse(Encoding.UTF8.GetBytes("{\n  \"review_id\": \"R1\",\n  \"product_category\": \"Books\",\n  \"review_body\": \"Great read\"\n}\n"));
        var review = Assert.Single(reviews);
        Assert.Equal(("R1", "Books", "Great read"), (review.Parsed.Review!.ReviewId, review.Parsed.Review.ProductCategory, review.Parsed.Review.ReviewBody));
    }

    [Fact]
    public void JsonLines_EachLineOnItsOwn_ABadOneRefusedAlone()
    {
        var body = Review + "\n\n" + Review.Replace("R1", "R2") + "\r\n{\"review_id\": \"broken\n" + Review.Replace("R1", "R3");
        var reviews = ReviewEventBody.Parse(Encoding.UTF8.GetBytes(body));
        Assert.Equal([1, 3, 4, 5], reviews.Select(r => r.Line));
        Assert.Equal(["R1", "R2", null, "R3"], reviews.Select(r => r.Parsed.Review?.ReviewId));
        Assert.Equal("record.invalid_json", reviews[2].Parsed.Rejection!.Code);
    }

    [Fact]
    public void AmazonTsv_UnderItsHeader_OrInTheDatasetsColumnOrder()
    {
        var row = string.Join('\t', "US", "c1", "R9", "p1", "1", "title", "Kitchen", "2", "0", "0", "N", "Y", "meh", "It broke", "2015-08-31");
        var withHeader = ReviewEventBody.Parse(Encoding.UTF8.GetBytes(string.Join('\t', ReviewParser.AmazonTsvColumns) + "\n" + row + "\n"));
        var without = ReviewEventBody.Parse(Encoding.UTF8.GetBytes(row));
        foreach (var reviews in new[] { withHeader, without })
        {
            var review = Assert.Single(reviews).Parsed.Review!;
            Assert.Equal(("R9", "Kitchen", 2, "It broke"), (review.ReviewId, review.ProductCategory, review.StarRating, review.ReviewBody));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0xFF, 0x7D }, "event.invalid_utf8")]
    [InlineData(new byte[] { 0x20, 0x0A }, "event.empty")]
    [InlineData(new byte[] { 0x68, 0x69 }, "record.unknown_format")]
    public void ABodyNoReviewCanBeReadFrom_IsRefusedWithTheRule(byte[] body, string code) =>
        Assert.Equal(code, Assert.Single(ReviewEventBody.Parse(body)).Parsed.Rejection!.Code);

    [Fact]
    public async Task UnreachableEventHubsNamespace_StopsTheSilo_NamingNamespaceAndHub()
    {
        using var directory = new ScratchDirectory("revieworleans-eventhub-unreachable-");
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = SiloApp.Create(["--Dashboard:Enabled=false", $"--Storage:SqlitePath={directory.File("x.db")}",
                "--Ingest:EventHubs:ConnectionString=Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=reader;SharedAccessKey=c2VjcmV0",
                "--Ingest:EventHubs:EventHubName=reviews"]);
            await app.StartAsync();
        });
        Assert.Contains("cannot reach Event Hubs namespace '127.0.0.1', hub 'reviews' (Ingest:EventHubs:ConnectionString, :EventHubName)", ex.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }
}
