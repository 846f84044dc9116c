using System.IO.Compression;
using ReviewOrleans.Delivery;

namespace ReviewOrleans.Platform.Tests;

/// <summary>Scored reviews for the delivery tests, and the reading back of what a destination wrote.</summary>
internal static class TestScoredReviews
{
    /// <summary>Deterministic records covering the nullable fields both ways and non-ASCII text.</summary>
    public static List<ScoredReview> Records(int first, int count, string prefix = "r") => [.. Enumerable.Range(first, count).Select(i =>
    {
        var p = new float[5];
        for (var k = 0; k < 5; k++)
        {
            p[k] = (float)((i * 31 + k * 17) % 97 + 1) / 490f;
        }
        return new ScoredReview
        {
            ReviewId = $"{prefix}{i:D4}",
            Category = i % 3 == 0 ? "électronique" : "books",
            Source = i % 2 == 0 ? "synthetic" : "gateway",
            StarRating = i % 4 == 0 ? null : 1 + i % 5,
            PredictedStars = 1 + i * 7 % 5,
            Probabilities = p,
            ExpectedStars = 1f + i % 400 / 100f,
            AnomalyScore = i % 5 == 0 ? null : i * 0.37,
            IngestedAtMs = 1_741_949_970_000 + i * 1_013,
            EventTimeMs = i % 2 == 0 ? null : 1_741_949_000_000 + i * 977,
            ModelVersion = "sentiment-v3",
        };
    })];

    /// <summary>A file's lines; GZipStream reads every member of a multi-member file.</summary>
    public static List<byte[]> ReadLines(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var content = new MemoryStream();
        gzip.CopyTo(content);
        var bytes = content.ToArray();
        Assert.True(bytes.Length > 0 && bytes[^1] == (byte)'\n', "a file must end with a whole line");
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 1;
            }
        }
        return lines;
    }

    public static List<ScoredReview> ReadRecords(string path) => [.. ReadLines(path).Select(l => ScoredReviewJson.Read(l))];

    public static void AssertSameRecords(IReadOnlyList<ScoredReview> expected, IReadOnlyList<ScoredReview> actual)
    {
        Assert.Equal(actual.Count, actual.Select(r => r.ReviewId).Distinct().Count());
        Assert.Equal(expected.Select(r => r.ReviewId).Order(StringComparer.Ordinal), actual.Select(r => r.ReviewId).Order(StringComparer.Ordinal));
        var byId = actual.ToDictionary(r => r.ReviewId);
        foreach (var e in expected)
        {
            var a = byId[e.ReviewId];
            Assert.Equal(e.Category, a.Category);
            Assert.Equal(e.Source, a.Source);
            Assert.Equal(e.StarRating, a.StarRating);
            Assert.Equal(e.PredictedStars, a.PredictedStars);
            Assert.Equal(e.Probabilities, a.Probabilities);
            Assert.Equal(e.ExpectedStars, a.ExpectedStars);
            Assert.Equal(e.AnomalyScore, a.AnomalyScore);
            Assert.Equal(e.IngestedAtMs, a.IngestedAtMs);
            Assert.Equal(e.EventTimeMs, a.EventTimeMs);
            Assert.Equal(e.ModelVersion, a.ModelVersion);
        }
    }
}
