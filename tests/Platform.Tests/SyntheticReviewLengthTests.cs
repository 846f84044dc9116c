using System.Security.Cryptography;
using System.Text;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Synthetic;

namespace ReviewOrleans.Platform.Tests;

/// <summary>The synthetic generator's review shapes: the short default stays as it was, the realistic one is long.</summary>
public sealed class SyntheticReviewLengthTests
{
    // SHA-256 of the first reviews of seeds 1 and 7 and one batch of each injected kind, as the generator produced them
    // before review shapes existed: tests, reviewctl generate and the silo's --demo stream depend on that output.
    private const string ShortFingerprint = "44F232A2E2DBE46E50424778D0567DF86BC60F840F5290A6B5F1CD87817C956D";

    [Fact]
    public void ShortShape_SameSeed_ProducesWhatItAlwaysDid()
    {
        Assert.Equal(ShortFingerprint, Fingerprint(seed => new SyntheticReviewGenerator(seed)));
    }

    [Fact]
    public void ShortShape_ExplicitOrDefault_IsTheSame()
    {
        Assert.Equal(ShortFingerprint, Fingerprint(seed => new SyntheticReviewGenerator(seed, ReviewLength.Short)));
    }

    [Fact]
    public void RealisticShape_SeededSample_WordCountsLikeRealReviews()
    {
        // Real clothing reviews: median about 60 words, a tail to 500. The draw is log-normal (median 60, sigma 0.85),
        // so the 90th percentile is near 60 * e^(1.2816 * 0.85) = 178 words and about 3 % exceed 300.
        var generator = new SyntheticReviewGenerator(seed: 5, ReviewLength.Realistic);
        var words = Enumerable.Range(0, 20_000).Select(_ => WordCount(generator.Next().ReviewBody)).Order().ToArray();

        var median = words[words.Length / 2];
        var p90 = words[(int)(words.Length * 0.9)];
        Assert.InRange(median, 55, 65);
        Assert.InRange(p90, 150, 210);
        Assert.InRange(words[0], 1, 10);
        Assert.InRange(words[^1], 400, SyntheticReviewGenerator.MaxWords);
        Assert.InRange(words.Count(w => w > 300) / (double)words.Length, 0.01, 0.06);
    }

    [Fact]
    public void ShortShape_SeededSample_TwoTemplateSentences()
    {
        var generator = new SyntheticReviewGenerator(seed: 5);
        var words = Enumerable.Range(0, 2_000).Select(_ => WordCount(generator.Next().ReviewBody)).ToArray();
        Assert.InRange(words.Min(), 4, 10);
        Assert.InRange(words.Max(), 10, 20);
    }

    [Fact]
    public void RealisticShape_SameSeed_SameReviewsButLongerBodies()
    {
        var shortReviews = new SyntheticReviewGenerator(seed: 9);
        var realistic = new SyntheticReviewGenerator(seed: 9, ReviewLength.Realistic);
        for (var i = 0; i < 500; i++)
        {
            var a = shortReviews.Next();
            var b = realistic.Next();
            var bodyA = a.ReviewBody;
            var bodyB = b.ReviewBody;
            a.ReviewBody = b.ReviewBody = "";
            Assert.Equal(Line(a), Line(b));
            Assert.True(bodyB.Length <= 64 * 1024, "within the validator's body limit");
            Assert.DoesNotContain("{0}", bodyB);
            Assert.True(bodyB.EndsWith('.') || bodyB.EndsWith('!'), bodyB);
        }
        Assert.Equal(Fingerprint(seed => new SyntheticReviewGenerator(seed, ReviewLength.Realistic)),
            Fingerprint(seed => new SyntheticReviewGenerator(seed, ReviewLength.Realistic)));
        Assert.NotEqual(ShortFingerprint, Fingerprint(seed => new SyntheticReviewGenerator(seed, ReviewLength.Realistic)));
    }

    [Fact]
    public void RealisticShape_Sentiment_FollowsTheStarRating()
    {
        var generator = new SyntheticReviewGenerator(seed: 3, ReviewLength.Realistic);
        var reviews = Enumerable.Range(0, 3_000).Select(_ => generator.Next()).ToList();
        var scores = TestReviews.Model.Score(reviews.Select(r => r.ReviewBody).ToList());
        var meanByStars = Enumerable.Range(1, 5)
            .Select(stars => reviews.Select((r, i) => (r, i)).Where(x => x.r.StarRating == stars).Average(x => scores[x.i].ExpectedStars))
            .ToArray();
        for (var s = 1; s < meanByStars.Length; s++)
        {
            Assert.True(meanByStars[s] > meanByStars[s - 1], $"mean expected stars by rating: {string.Join(", ", meanByStars.Select(m => m.ToString("F2")))}");
        }
        Assert.True(meanByStars[4] - meanByStars[0] > 2, $"mean expected stars by rating: {string.Join(", ", meanByStars.Select(m => m.ToString("F2")))}");
    }

    private static int WordCount(string body) => body.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    private static string Line(ReviewMessage review)
    {
        var text = new StringBuilder();
        Append(text, review);
        return text.ToString();
    }

    internal static string Fingerprint(Func<int, SyntheticReviewGenerator> create)
    {
        var text = new StringBuilder();
        foreach (var seed in new[] { 1, 7 })
        {
            var generator = create(seed);
            for (var i = 0; i < 2_000; i++)
            {
                Append(text, generator.Next(eventTimeMs: i % 3 == 0 ? 1_700_000_000_000 + i : null));
            }
            foreach (var kind in Enum.GetValues<InjectedAnomaly>())
            {
                foreach (var review in generator.Inject(kind, 8))
                {
                    Append(text, review);
                }
            }
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static void Append(StringBuilder text, ReviewMessage r) => text
        .Append(r.Marketplace).Append('|').Append(r.CustomerId).Append('|').Append(r.ReviewId).Append('|')
        .Append(r.ProductId).Append('|').Append(r.ProductParent).Append('|').Append(r.ProductTitle).Append('|')
        .Append(r.ProductCategory).Append('|').Append(r.StarRating).Append('|').Append(r.HelpfulVotes).Append('|')
        .Append(r.TotalVotes).Append('|').Append(r.Vine).Append('|').Append(r.VerifiedPurchase).Append('|')
        .Append(r.ReviewHeadline).Append('|').Append(r.ReviewBody).Append('|').Append(r.ReviewDate).Append('|')
        .Append(r.Source).Append('|').Append(r.EventTimeMs).Append('\n');
}
