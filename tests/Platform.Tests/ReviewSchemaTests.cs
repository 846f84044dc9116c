using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Platform.Tests;

public sealed class ReviewSchemaTests
{
    private static ReviewMessage Valid() => new() { ReviewId = "R1", ProductCategory = "Books", ReviewBody = "Great read." };

    [Theory]
    [InlineData("", "Books", "x", "review_id.required")]
    [InlineData("   ", "Books", "x", "review_id.blank")]
    [InlineData("R1", "", "x", "product_category.required")]
    [InlineData("R1", "Books", "", "review_body.required")]
    public void Validate_MissingRequiredField_NamesFieldAndRule(string id, string category, string body, string code)
    {
        var rejection = ReviewValidator.Validate(new ReviewMessage { ReviewId = id, ProductCategory = category, ReviewBody = body });
        Assert.Equal(code, rejection?.Code);
    }

    [Fact]
    public void Validate_LengthLimits_ExactlyAtLimitPassesOneMoreFails()
    {
        var review = Valid();
        review.ReviewId = new string('i', 64);
        review.ProductCategory = new string('c', 64);
        review.ReviewBody = new string('b', 64 * 1024);
        Assert.Null(ReviewValidator.Validate(review));

        review.ReviewId = new string('i', 65);
        Assert.Equal("review_id.too_long", ReviewValidator.Validate(review)?.Code);
        review.ReviewId = "R1";
        review.ProductCategory = new string('c', 65);
        Assert.Equal("product_category.too_long", ReviewValidator.Validate(review)?.Code);
        review.ProductCategory = "Books";
        review.ReviewBody = new string('b', 64 * 1024 + 1);
        Assert.Equal("review_body.too_long", ReviewValidator.Validate(review)?.Code);
    }

    [Theory]
    [InlineData("review_id", "R\u00001", "review_id.control_character", "U+0000 at position 1")]
    [InlineData("review_id", "R1\n", "review_id.control_character", "U+000A at position 2")]
    [InlineData("product_category", "Bo\u001Fks", "product_category.control_character", "U+001F at position 2")]
    [InlineData("product_category", "Books\u007F", "product_category.control_character", "U+007F at position 5")]
    [InlineData("source", "twit\tter", "source.control_character", "U+0009 at position 4")]
    [InlineData("source", "a\u007Fb\tc", "source.control_character", "U+007F at position 1")]
    [InlineData("review_body", "line one\u0000", "review_body.nul_character", "U+0000 at position 8")]
    [InlineData("review_headline", "\u0000", "review_headline.nul_character", "U+0000 at position 0")]
    [InlineData("product_title", "a\u0000b", "product_title.nul_character", "U+0000 at position 1")]
    public void Validate_ControlOrNulCharacter_RefusedNamingFieldRuleAndPosition(string field, string value, string code, string detail)
    {
        var review = Valid();
        switch (field)
        {
            case "review_id": review.ReviewId = value; break;
            case "product_category": review.ProductCategory = value; break;
            case "source": review.Source = value; break;
            case "review_body": review.ReviewBody = value; break;
            case "review_headline": review.ReviewHeadline = value; break;
            case "product_title": review.ProductTitle = value; break;
        }
        var rejection = ReviewValidator.Validate(review);
        Assert.Equal(code, rejection?.Code);
        Assert.Contains(detail, rejection!.Message);
    }

    [Fact]
    public void Validate_TextThatIsNotControl_Accepted()
    {
        // Line breaks and tabs are ordinary in a review's body and headline; only U+0000 is refused there.
        var review = Valid();
        review.ReviewBody = "First line.\r\n\tSecond line, \u00e9t\u00e9, \ud83d\ude00.";
        review.ReviewHeadline = "Nice\tone";
        review.ProductCategory = "B\u00fccher \u2013 Kinder";
        review.Source = new string('s', ReviewValidator.MaxSourceLength);
        Assert.Null(ReviewValidator.Validate(review));
        review.Source += "s";
        Assert.Equal("source.too_long", ReviewValidator.Validate(review)?.Code);
    }

    [Fact]
    public void Validate_BodyLimit_CountsUtf8BytesNotCharacters()
    {
        var review = Valid();
        review.ReviewBody = new string('é', 32 * 1024); // 2 bytes each: exactly 64 KiB
        Assert.Null(ReviewValidator.Validate(review));
        review.ReviewBody += "é";
        Assert.Equal("review_body.too_long", ReviewValidator.Validate(review)?.Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Validate_StarRatingOutOfRange_Rejected(int stars)
    {
        var review = Valid();
        review.StarRating = stars;
        Assert.Equal("star_rating.out_of_range", ReviewValidator.Validate(review)?.Code);
    }

    [Fact]
    public void Validate_EventTimeFarAheadOfIngest_RejectedNamingTheField()
    {
        const long ingest = 1_764_000_000_000;
        var review = Valid();
        review.EventTimeMs = ingest + ReviewValidator.MaxEventTimeAheadMs;
        Assert.Null(ReviewValidator.Validate(review, ingest)); // clock skew up to an hour passes
        review.EventTimeMs = ingest - (400L * 24 * 3_600_000);
        Assert.Null(ReviewValidator.Validate(review, ingest)); // old reviews are the windows' business (late)
        review.EventTimeMs = long.MinValue; // would overflow the window arithmetic
        Assert.Equal("event_time.out_of_range", ReviewValidator.Validate(review, ingest)?.Code);
        review.EventTimeMs = long.MaxValue;
        Assert.Equal("event_time.out_of_range", ReviewValidator.Validate(review)?.Code);

        review.EventTimeMs = ingest * 1_000; // microseconds sent as milliseconds: beyond the year 9999
        Assert.Equal("event_time.out_of_range", ReviewValidator.Validate(review, ingest)?.Code);
        review.EventTimeMs = ingest + ReviewValidator.MaxEventTimeAheadMs + 1;
        var rejection = ReviewValidator.Validate(review, ingest);
        Assert.Equal("event_time.in_future", rejection?.Code);
        Assert.Contains("milliseconds expected", rejection!.Message);

        // Without an ingest time (a review not yet stamped) there is nothing to compare with; the stamp counts.
        Assert.Null(ReviewValidator.Validate(review));
        review.IngestedAtMs = ingest;
        Assert.Equal("event_time.in_future", ReviewValidator.Validate(review)?.Code);
    }

    [Fact]
    public void FromJson_LoneSurrogateEscape_RefusesTheRecordWithoutThrowing()
    {
        // JsonDocument accepts "\ud800"; reading the string then threw InvalidOperationException, which failed the
        // whole PutReviews call instead of this record.
        foreach (var json in new[] { """{"review_id":"a","product_category":"B","review_body":"\ud800"}""", """{"\udc00":1}""" })
        {
            Assert.Equal("record.invalid_json", ReviewParser.FromJson(json).Rejection?.Code);
        }
        Assert.Null(ReviewParser.FromJson("""{"review_id":"a","product_category":"B","review_body":"\ud83d\ude00"}""").Rejection); // a pair is fine
    }

    [Fact]
    public void FromJson_DuplicateFieldOrIntegralNumber_RefusedNamedOrAccepted()
    {
        var duplicate = ReviewParser.FromJson("""{"review_id":"a","product_category":"B","review_body":"x","star_rating":1,"star_rating":null}""");
        Assert.Equal("star_rating.duplicate", duplicate.Rejection?.Code);
        Assert.Equal(5, ReviewParser.FromJson("""{"review_id":"a","product_category":"B","review_body":"x","star_rating":5.0}""").Review?.StarRating);
        Assert.Equal(5, ReviewParser.FromJson("""{"review_id":"a","product_category":"B","review_body":"x","star_rating":5e0}""").Review?.StarRating);
        Assert.Equal("star_rating.not_an_integer", ReviewParser.FromJson("""{"review_id":"a","product_category":"B","review_body":"x","star_rating":4.5}""").Rejection?.Code);
    }

    [Theory]
    [InlineData("1700000000000", 1_700_000_000_000L)]
    [InlineData("2023-11-14T22:13:20Z", 1_700_000_000_000L)]
    [InlineData("2023-11-14 22:13:20", 1_700_000_000_000L)]
    [InlineData("2023-11-14", 1_699_920_000_000L)]
    public void FromJson_EventTimeAsText_UnixMillisecondsOrIso8601(string text, long expected)
    {
        var parsed = ReviewParser.FromJson($$"""{"review_id":"a","product_category":"B","review_body":"x","event_time":"{{text}}"}""");
        Assert.Null(parsed.Rejection);
        Assert.Equal(expected, parsed.Review!.EventTimeMs);
    }

    [Theory]
    [InlineData("12:00")] // was taken as today at noon
    [InlineData("Tuesday")]
    [InlineData("17e11")]
    public void FromJson_EventTimeNotADate_Refused(string text) =>
        Assert.Equal("event_time.invalid_time",
            ReviewParser.FromJson($$"""{"review_id":"a","product_category":"B","review_body":"x","event_time":"{{text}}"}""").Rejection?.Code);

    [Fact]
    public void FromAmazonTsv_RowWithAnotherFieldCount_Refused()
    {
        var header = ReviewParser.ReadAmazonTsvHeader("review_id\tproduct_category\treview_body\treview_date");
        Assert.Null(ReviewParser.FromAmazonTsv("R1\tBooks\tGood\t2015-08-31", header).Rejection);
        Assert.Equal("record.bad_tsv", ReviewParser.FromAmazonTsv("R1\tBooks\tGood\twith a tab\t2015-08-31", header).Rejection?.Code);
        Assert.Equal("record.bad_tsv", ReviewParser.FromAmazonTsv("R1\tBooks\tcut off", header).Rejection?.Code);
    }

    [Fact]
    public void ToMessage_TimestampBeyondItsRange_RefusedNotWrapped()
    {
        // 18446744073709552 s × 1000 wrapped to 384 ms after 1970, a plausible time.
        var api = ReviewApi.ToApi(Valid());
        api.EventTime = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 18_446_744_073_709_552 };
        Assert.Equal("event_time.out_of_range", ReviewValidator.Validate(ReviewApi.ToMessage(api))?.Code);
        api.EventTime = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1_700_000_000, Nanos = 1_500_000_000 };
        Assert.Equal("event_time.out_of_range", ReviewValidator.Validate(ReviewApi.ToMessage(api))?.Code);
        api.EventTime = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1_700_000_000, Nanos = 250_000_000 };
        Assert.Equal(1_700_000_000_250, ReviewApi.ToMessage(api).EventTimeMs);
    }

    [Fact]
    public void FromJson_AllFields_RoundTripThroughWriter()
    {
        var original = new ReviewMessage
        {
            Marketplace = "US", CustomerId = "42", ReviewId = "R1", ProductId = "P1", ProductParent = "7", ProductTitle = "Lamp",
            ProductCategory = "Home", StarRating = 4, HelpfulVotes = 1, TotalVotes = 2, Vine = false, VerifiedPurchase = true,
            ReviewHeadline = "Nice", ReviewBody = "Nice lamp 💡 \"quoted\"\ttab", ReviewDate = "2026-11-27", Source = "twitter",
            EventTimeMs = 1_764_000_000_123,
        };

        var parsed = ReviewParser.FromJson(ReviewJsonWriter.ToJson(original));

        Assert.Null(parsed.Rejection);
        Assert.Equal(ReviewJsonWriter.ToJson(original), ReviewJsonWriter.ToJson(parsed.Review!));
        Assert.Equal(0, parsed.Review!.MissingOptionalFieldCount());
    }

    [Theory]
    [InlineData("""{"review_id":"R1","product_category":"B","review_body":"x","star_rating":"five"}""", "star_rating.not_an_integer")]
    [InlineData("""{"review_id":"R1","product_category":"B","review_body":"x","star_rating":4.5}""", "star_rating.not_an_integer")]
    [InlineData("""{"review_id":1,"product_category":"B","review_body":"x"}""", "review_id.wrong_type")]
    [InlineData("""{"review_id":"R1","product_category":"B","review_body":"x","vine":"maybe"}""", "vine.not_a_flag")]
    [InlineData("""{"review_id":"R1","product_category":"B","review_body":"x","event_time":"yesterday"}""", "event_time.invalid_time")]
    [InlineData("""[1,2]""", "record.not_an_object")]
    [InlineData("""{"review_id":""", "record.invalid_json")]
    public void FromJson_BadField_RejectionNamesIt(string json, string code) =>
        Assert.Equal(code, ReviewParser.FromJson(json).Rejection?.Code);

    [Fact]
    public void FromJson_AmazonStyleStringsAndUnknownFields_Accepted()
    {
        var parsed = ReviewParser.FromJson("""{"review_id":"R1","product_category":"B","review_body":"x","star_rating":"5","vine":"N","verified_purchase":"Y","extra":{"a":1}}""");
        Assert.Null(parsed.Rejection);
        Assert.Equal(5, parsed.Review!.StarRating);
        Assert.False(parsed.Review.Vine);
        Assert.True(parsed.Review.VerifiedPurchase);
    }

    [Fact]
    public void FromReferenceTsv_BodyWithTabs_KeepsThemInBody()
    {
        var parsed = ReviewParser.FromReferenceTsv("R1\tBooks\tGood\tbook\r\n");
        Assert.Equal(("R1", "Books", "Good\tbook"), (parsed.Review!.ReviewId, parsed.Review.ProductCategory, parsed.Review.ReviewBody));
    }

    [Fact]
    public void FromAmazonTsv_HeaderAndRow_MapsColumnsByName()
    {
        var header = ReviewParser.ReadAmazonTsvHeader(string.Join('\t', ReviewParser.AmazonTsvColumns));
        var row = "US\t123\tR9\tP1\t55\tA lamp\tHome\t2\t0\t3\tN\tY\tMeh\tIt flickers.\t2015-08-31";

        var parsed = ReviewParser.FromAmazonTsv(row, header);

        Assert.Null(parsed.Rejection);
        var review = parsed.Review!;
        Assert.Equal(("R9", "Home", 2, "It flickers.", true), (review.ReviewId, review.ProductCategory, review.StarRating, review.ReviewBody, review.VerifiedPurchase));
    }

    [Fact]
    public void ReadAmazonTsvHeader_MissingRequiredColumn_ThrowsNamingIt()
    {
        var ex = Assert.Throws<FormatException>(() => ReviewParser.ReadAmazonTsvHeader("marketplace\treview_id\treview_body"));
        Assert.Contains("product_category", ex.Message);
    }
}
