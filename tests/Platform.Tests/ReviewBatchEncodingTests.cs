using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Platform.Tests;

/// <summary>The "reviews" stream's batch format: exact round trips, clear errors, later fields skipped.</summary>
public sealed class ReviewBatchEncodingTests
{
    private static ReviewMessage Full(string id) => new()
    {
        Marketplace = "US", CustomerId = "C-1", ReviewId = id, ProductId = "P-9", ProductParent = "PP-9",
        ProductTitle = "Kettle 1.7 l", ProductCategory = "Kitchen", StarRating = 1, HelpfulVotes = 0, TotalVotes = int.MaxValue,
        Vine = false, VerifiedPurchase = true, ReviewHeadline = "Broke 💔", ReviewBody = "Zerbrach nach zwei Tagen — 不好 😡",
        ReviewDate = "2026-11-27", Source = "twitter", EventTimeMs = -5, IngestedAtMs = 1_795_000_000_000,
    };

    private static void AssertSame(ReviewMessage expected, ReviewMessage actual)
    {
        foreach (var property in typeof(ReviewMessage).GetProperties())
        {
            Assert.Equal(property.GetValue(expected), property.GetValue(actual));
        }
    }

    [Fact]
    public void Decode_OfEncode_EveryFieldBackIncludingNullsEmptiesUnicodeAndExtremes()
    {
        var sparse = new ReviewMessage { ReviewId = "R2", ProductCategory = "Books", ReviewBody = "ok", ReviewHeadline = "" };
        var large = Full("R3");
        large.ReviewBody = new string('ä', 32 * 1024) + "\U0001F600";
        large.HelpfulVotes = int.MinValue;
        large.EventTimeMs = long.MaxValue;
        ReviewMessage[] reviews = [Full("R1"), sparse, large];

        var batch = ReviewBatch.Create(reviews);
        var decoded = batch.Decode();

        Assert.Equal(3, batch.Count);
        Assert.Equal(reviews.Length, decoded.Length);
        for (var i = 0; i < reviews.Length; i++)
        {
            AssertSame(reviews[i], decoded[i]);
        }
        Assert.Null(decoded[1].Marketplace); // absent stays null, not ""
        Assert.Equal("", decoded[1].ReviewHeadline); // and empty stays empty
        Assert.Empty(ReviewBatch.Create([]).Decode());
    }

    [Fact]
    public void CountThatFit_SplitsAtTheByteLimit_EveryChunkEncodesWithinIt_AndOneLargerReviewStillGoes()
    {
        var reviews = Enumerable.Range(0, 40).Select(i =>
        {
            var review = Full($"R{i}");
            review.ReviewBody = new string('x', 60_000 + i);
            return review;
        }).ToList();
        var chunks = new List<int>();
        for (var start = 0; start < reviews.Count;)
        {
            var count = ReviewBatchEncoding.CountThatFit(reviews, start, ReviewBatch.MaxPayloadBytes);
            var payload = ReviewBatchEncoding.Encode(reviews.GetRange(start, count));
            Assert.InRange(payload.Length, 1, ReviewBatch.MaxPayloadBytes);
            // The next review would not have fitted.
            if (start + count < reviews.Count)
            {
                Assert.True(ReviewBatchEncoding.Encode(reviews.GetRange(start, count + 1)).Length > ReviewBatch.MaxPayloadBytes);
            }
            chunks.Add(count);
            start += count;
        }
        Assert.Equal(40, chunks.Sum());
        Assert.Equal([8, 8, 8, 8, 8], chunks);
        Assert.Equal(1, ReviewBatchEncoding.CountThatFit(reviews, 0, 1_000));
        Assert.Equal(40, ReviewBatchEncoding.CountThatFit(reviews, 0, int.MaxValue));
    }

    [Fact]
    public void Decode_TruncatedPayload_InvalidDataNamingWhereItStopped()
    {
        var payload = ReviewBatchEncoding.Encode([Full("R1"), Full("R2")]);
        for (var cut = 0; cut < payload.Length; cut += 7)
        {
            var error = Assert.Throws<InvalidDataException>(() => ReviewBatchEncoding.Decode(payload.AsSpan(0, cut)));
            Assert.StartsWith("review batch: ", error.Message);
        }
        var last = Assert.Throws<InvalidDataException>(() => ReviewBatchEncoding.Decode(payload.AsSpan(0, payload.Length - 1)));
        Assert.Contains("review 1", last.Message);
    }

    [Fact]
    public void Decode_OtherVersionOrTrailingBytes_InvalidData()
    {
        var payload = ReviewBatchEncoding.Encode([Full("R1")]);
        payload[0] = 2;
        Assert.Contains("format version 2", Assert.Throws<InvalidDataException>(() => ReviewBatchEncoding.Decode(payload)).Message);

        byte[] padded = [.. ReviewBatchEncoding.Encode([Full("R1")]), 0];
        Assert.Contains("after the last of 1 reviews", Assert.Throws<InvalidDataException>(() => ReviewBatchEncoding.Decode(padded)).Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x07 }, "cannot fit")] // a huge count
    [InlineData(new byte[] { 1, 1, 0xFF, 0xFF, 0xFF, 0x7F }, "runs past the end")] // a huge review length
    [InlineData(new byte[] { 1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, "out of range")] // a length beyond int
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }, "not a valid 64-bit varint")]
    [InlineData(new byte[] { 1, 1, 7, 0x80, 0x01, 0x80, 0x80, 0x80, 0x80, 0x20 }, "not a 32-bit integer")] // star_rating 2^32
    public void Decode_HostileHeaderOrField_InvalidDataBeforeAnyLargeAllocation(byte[] payload, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => ReviewBatchEncoding.Decode(payload));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Decode_ReviewWithFieldsOfALaterVersion_ReadsTheKnownFieldsAndSkipsTheRest()
    {
        // Re-frame one review the way a later writer would: a mask bit beyond today's fields, bytes after them.
        var review = Full("R1");
        var today = ReviewBatchEncoding.Encode([review]);
        Assert.Equal([ReviewBatchEncoding.Version, 1], today[..2]);
        var position = 2;
        var length = (int)ReadVarint(today, ref position);
        var body = today.AsSpan(position, length);
        var maskEnd = 0;
        var mask = ReadVarint(body, ref maskEnd);
        byte[] later = [.. Varint(mask | 1UL << 20), .. body[maskEnd..], 0x05, 0x01, 0x02];
        byte[] payload = [ReviewBatchEncoding.Version, 1, .. Varint((ulong)later.Length), .. later];

        AssertSame(review, Assert.Single(ReviewBatchEncoding.Decode(payload)));
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
        return [.. bytes];
    }
}
