namespace ReviewOrleans.Contracts.Grains;

/// <summary>A review predicted at 2 stars or fewer: a customer who needs attention.</summary>
[GenerateSerializer, Alias("priority-review.v1")]
public sealed class PriorityReviewRecord
{
    [Id(0)] public string ReviewId { get; set; } = "";
    [Id(1)] public string Category { get; set; } = "";
    [Id(2)] public int PredictedStars { get; set; }
    [Id(3)] public double ExpectedStars { get; set; }
    [Id(4)] public string? ReviewHeadline { get; set; }
    [Id(5)] public string ReviewBody { get; set; } = "";
    [Id(6)] public string? CustomerId { get; set; }
    [Id(7)] public string? Source { get; set; }
    [Id(8)] public long ReceivedMs { get; set; }
}

/// <summary>A record refused somewhere in the pipeline, kept with its reason.</summary>
[GenerateSerializer, Alias("dead-letter.v1")]
public sealed class DeadLetterRecord
{
    [Id(0)] public long TimeMs { get; set; }
    [Id(1)] public string ReviewId { get; set; } = "";
    [Id(2)] public string Field { get; set; } = "";
    [Id(3)] public string Rule { get; set; } = "";
    [Id(4)] public string Message { get; set; } = "";
    [Id(5)] public string Stage { get; set; } = "";
    [Id(6)] public string Raw { get; set; } = "";

    /// <summary>Identity of this record, so that a sender re-sending after a failed call does not store it twice.</summary>
    [Id(7)] public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>Longest prefix of a raw record that is kept.</summary>
    public const int MaxRawLength = 1024;

    public static string ClipRaw(string? raw) => raw is null ? "" : raw.Length <= MaxRawLength ? raw : raw[..MaxRawLength];
}

/// <summary>A page of dead letters, newest first, and how many were ever stored.</summary>
[GenerateSerializer, Alias("dead-letter-page.v1")]
public sealed record DeadLetterPage(
    [property: Id(0)] long Total,
    [property: Id(1)] List<DeadLetterRecord> DeadLetters);

/// <summary>Ingest-to-scored latency seen by one partition grain, as a histogram with 1 ms buckets.</summary>
[GenerateSerializer, Alias("partition-stats.v1")]
public sealed class PartitionStats
{
    /// <summary>Latencies of 2 s or more share the last bucket.</summary>
    public const int LatencyBucketCount = 2_001;

    [Id(0)] public long Scored { get; set; }

    /// <summary>Bucket i counts reviews scored i ms (rounded down) after the gateway accepted them.</summary>
    [Id(1)] public long[] LatencyBuckets { get; set; } = new long[LatencyBucketCount];

    /// <summary>Batches the stream delivered again after this partition had logged them (a crash's replay), skipped.</summary>
    [Id(2)] public long ReplayedBatches { get; set; }

    /// <summary>The partition's log sequence: batches logged since the partition first ran.</summary>
    [Id(3)] public long LogHead { get; set; }

    /// <summary>The latency (ms) below which <paramref name="quantile"/> of the reviews fall; -1 when none were scored.</summary>
    public static int Percentile(IReadOnlyList<long> buckets, double quantile)
    {
        var total = buckets.Sum();
        if (total == 0)
        {
            return -1;
        }
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            seen += buckets[i];
            if (seen >= rank)
            {
                return i;
            }
        }
        return buckets.Count - 1;
    }
}
