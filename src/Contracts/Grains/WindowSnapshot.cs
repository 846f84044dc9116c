namespace ReviewOrleans.Contracts.Grains;

/// <summary>A partition grain's pre-aggregate of one category's reviews in one window.</summary>
[GenerateSerializer, Alias("category-partial.v1")]
public sealed class CategoryPartial
{
    [Id(0)] public string Category { get; set; } = "";
    [Id(1)] public long WindowStartMs { get; set; }
    [Id(2)] public long MaxTimestampMs { get; set; }
    [Id(3)] public long Count { get; set; }
    [Id(4)] public double SumExpectedStars { get; set; }
    [Id(5)] public long[] StarCounts { get; set; } = new long[5];
}

/// <summary>A closed window of one category, as kept in history and published on the metrics stream.</summary>
[GenerateSerializer, Alias("window-snapshot.v1")]
public sealed class WindowSnapshot
{
    [Id(0)] public string Category { get; set; } = "";
    [Id(1)] public long StartMs { get; set; }
    [Id(2)] public long EndMs { get; set; }
    [Id(3)] public long Count { get; set; }
    [Id(4)] public double SumExpectedStars { get; set; }
    [Id(5)] public long[] StarCounts { get; set; } = new long[5];
    [Id(6)] public bool IsUpdate { get; set; }

    public double AverageExpectedStars => Count == 0 ? 0 : SumExpectedStars / Count;

    public double NegativeShare => Count == 0 ? 0 : (double)(StarCounts[0] + StarCounts[1]) / Count;
}

/// <summary>A category's closed windows, newest last, and its late-review count.</summary>
[GenerateSerializer, Alias("category-history.v1")]
public sealed class CategoryHistory
{
    [Id(0)] public string Category { get; set; } = "";
    [Id(1)] public List<WindowSnapshot> Windows { get; set; } = [];
    [Id(2)] public long LateReviews { get; set; }
}
