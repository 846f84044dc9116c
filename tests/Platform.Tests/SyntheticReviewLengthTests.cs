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
