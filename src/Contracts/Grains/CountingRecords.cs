namespace ReviewOrleans.Contracts.Grains;

/// <summary>What a partition grain counted since its last flush; the counting grain adds deltas up.</summary>
[GenerateSerializer, Alias("count-delta.v1")]
public sealed class CountDelta
{
    [Id(0)] public long Reviews { get; set; }
    [Id(1)] public long Rejected { get; set; }
    [Id(2)] public long Duplicates { get; set; }
    [Id(3)] public Dictionary<string, long> PerCategory { get; set; } = [];
    [Id(4)] public Dictionary<string, long> PerSource { get; set; } = [];

    /// <summary>Per window start (Unix ms), the serialised distinct counter of the review ids seen in that window.</summary>
    [Id(5)] public Dictionary<long, byte[]> DistinctPerWindow { get; set; } = [];

    public bool IsEmpty => Reviews == 0 && Rejected == 0 && Duplicates == 0 && DistinctPerWindow.Count == 0;
}

/// <summary>One window's distinct review count.</summary>
[GenerateSerializer, Alias("distinct-window.v1")]
public sealed record DistinctWindowCount(
    [property: Id(0)] long StartMs,
    [property: Id(1)] long EndMs,
    [property: Id(2)] double DistinctReviews,
    [property: Id(3)] bool Exact);

/// <summary>Totals and distinct counts as the counting grain reports them.</summary>
[GenerateSerializer, Alias("count-report.v1")]
public sealed class CountReport
{
    [Id(0)] public long TotalReviews { get; set; }
    [Id(1)] public long RejectedReviews { get; set; }
    [Id(2)] public long DuplicateReviews { get; set; }
    [Id(3)] public Dictionary<string, long> PerCategory { get; set; } = [];
    [Id(4)] public Dictionary<string, long> PerSource { get; set; } = [];
    [Id(5)] public double AllTimeDistinctReviews { get; set; }
    [Id(6)] public List<DistinctWindowCount> Windows { get; set; } = [];
}
