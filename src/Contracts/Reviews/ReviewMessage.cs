namespace ReviewOrleans.Contracts.Reviews;

/// <summary>
/// One review as it travels through the platform: the Amazon Customer Reviews fields plus the channel it came from
/// (<see cref="Source"/>) and its own time (<see cref="EventTimeMs"/>). Only review_id, product_category and
/// review_body are required; <see cref="ReviewValidator"/> enforces the rules.
/// </summary>
[GenerateSerializer, Alias("review-message.v1")]
public sealed class ReviewMessage
{
    [Id(0)] public string? Marketplace { get; set; }
    [Id(1)] public string? CustomerId { get; set; }
    [Id(2)] public string ReviewId { get; set; } = "";
    [Id(3)] public string? ProductId { get; set; }
    [Id(4)] public string? ProductParent { get; set; }
    [Id(5)] public string? ProductTitle { get; set; }
    [Id(6)] public string ProductCategory { get; set; } = "";
    [Id(7)] public int? StarRating { get; set; }
    [Id(8)] public int? HelpfulVotes { get; set; }
    [Id(9)] public int? TotalVotes { get; set; }
    [Id(10)] public bool? Vine { get; set; }
    [Id(11)] public bool? VerifiedPurchase { get; set; }
    [Id(12)] public string? ReviewHeadline { get; set; }
    [Id(13)] public string ReviewBody { get; set; } = "";
    [Id(14)] public string? ReviewDate { get; set; }
    [Id(15)] public string? Source { get; set; }

    /// <summary>The source as counted and delivered: "unknown" when the sender gave none.</summary>
    public string SourceOrUnknown => string.IsNullOrEmpty(Source) ? "unknown" : Source;

    /// <summary>When the review happened, in Unix milliseconds; null when the sender did not say.</summary>
    [Id(16)] public long? EventTimeMs { get; set; }

    /// <summary>When the gateway accepted it, in Unix milliseconds: processing-time windows and latency use it.</summary>
    [Id(17)] public long IngestedAtMs { get; set; }

    /// <summary>Optional fields (all but the three required ones) that the sender left out.</summary>
    public int MissingOptionalFieldCount()
    {
        var missing = 0;
        missing += string.IsNullOrEmpty(Marketplace) ? 1 : 0;
        missing += string.IsNullOrEmpty(CustomerId) ? 1 : 0;
        missing += string.IsNullOrEmpty(ProductId) ? 1 : 0;
        missing += string.IsNullOrEmpty(ProductParent) ? 1 : 0;
        missing += string.IsNullOrEmpty(ProductTitle) ? 1 : 0;
        missing += StarRating is null ? 1 : 0;
        missing += HelpfulVotes is null ? 1 : 0;
        missing += TotalVotes is null ? 1 : 0;
        missing += Vine is null ? 1 : 0;
        missing += VerifiedPurchase is null ? 1 : 0;
        missing += string.IsNullOrEmpty(ReviewHeadline) ? 1 : 0;
        missing += string.IsNullOrEmpty(ReviewDate) ? 1 : 0;
        missing += string.IsNullOrEmpty(Source) ? 1 : 0;
        missing += EventTimeMs is null ? 1 : 0;
        return missing;
    }

    /// <summary>Number of optional fields counted by <see cref="MissingOptionalFieldCount"/>.</summary>
    public const int OptionalFieldCount = 14;
}

/// <summary>
/// The unit carried on the "reviews" stream: the reviews of one partition from one ingestion call, encoded by
/// <see cref="ReviewBatchEncoding"/> into one byte array.
/// </summary>
/// <remarks>
/// As an array of objects, each batch cost the Orleans serializer a reference-tracking table entry per string on
/// both ends (tables that it allocates afresh per message), which was a fifth of the platform's allocations; one
/// byte array is written and copied as a block.
/// </remarks>
[GenerateSerializer, Alias("review-batch.v2")]
public sealed class ReviewBatch
{
    /// <summary>The reviews in <see cref="ReviewBatchEncoding"/>'s format.</summary>
    [Id(0)] public byte[] Payload { get; init; } = [];

    /// <summary>Number of reviews in <see cref="Payload"/>.</summary>
    [Id(1)] public int Count { get; init; }

    /// <summary>
    /// Random per batch the producer publishes, never 0 (0: a batch from an older producer, which has none). The
    /// stream may deliver a message again after a crash; the partition recognises the same batch by this id and skips
    /// it, while a review that a client genuinely sent twice (in another batch) still counts as a duplicate.
    /// </summary>
    [Id(2)] public long BatchId { get; init; }

    /// <summary>
    /// The W3C trace context of the publishing call (null when nothing traces), so that a partition's scoring joins
    /// the trace of the gateway call that brought the reviews across the stream.
    /// </summary>
    [Id(3)] public string? TraceParent { get; init; }

    /// <summary>
    /// Largest payload a producer puts in one batch. Orleans' memory-stream cache holds a message in one pooled 1 MiB
    /// block and fails a larger one on every read, which stalls its whole queue for good; Event Hubs refuses events
    /// above 1 MB. Half of that leaves room for the message's own framing.
    /// </summary>
    public const int MaxPayloadBytes = 512 * 1024;

    public static ReviewBatch Create(IReadOnlyList<ReviewMessage> reviews) => Create(reviews, NewBatchId());

    /// <param name="batchId">Not 0; the same id for the same reviews when a producer's event is read again, so that the partition skips it.</param>
    public static ReviewBatch Create(IReadOnlyList<ReviewMessage> reviews, long batchId) =>
        new() { Payload = ReviewBatchEncoding.Encode(reviews), Count = reviews.Count, BatchId = batchId, TraceParent = System.Diagnostics.Activity.Current?.Id };

    /// <summary>
    /// The reviews as batches of at most <see cref="MaxPayloadBytes"/>, in order, each with the index of its first
    /// review; <paramref name="batchIdOfChunk"/> gives the n-th batch its id (default: a random one).
    /// </summary>
    public static IEnumerable<(int Start, ReviewBatch Batch)> Split(List<ReviewMessage> reviews, Func<int, long>? batchIdOfChunk = null)
    {
        var start = 0;
        for (var chunk = 0; start < reviews.Count; chunk++)
        {
            var count = ReviewBatchEncoding.CountThatFit(reviews, start, MaxPayloadBytes);
            var part = start == 0 && count == reviews.Count ? reviews : reviews.GetRange(start, count);
            yield return (start, Create(part, batchIdOfChunk?.Invoke(chunk) ?? NewBatchId()));
            start += count;
        }
    }

    private static long NewBatchId()
    {
        long id;
        do
        {
            id = Random.Shared.NextInt64(long.MinValue, long.MaxValue);
        }
        while (id == 0);
        return id;
    }

    /// <summary>The reviews; <see cref="InvalidDataException"/> names the problem when the payload is malformed.</summary>
    public ReviewMessage[] Decode() => ReviewBatchEncoding.Decode(Payload);
}
