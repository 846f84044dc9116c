using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Synthetic;

/// <summary>What the generator injects besides ordinary reviews.</summary>
public enum InjectedAnomaly
{
    /// <summary>Nothing: ordinary reviews only.</summary>
    None,

    /// <summary>A burst of identical 1-star reviews (fresh ids, one body), as in the reference notebook.</summary>
    OneStarBurst,

    /// <summary>Records that break the schema: missing fields, oversized body, star rating out of range.</summary>
    Malformed,

    /// <summary>A flood of reviews into one category.</summary>
    CategoryFlood,

    /// <summary>Re-sends of reviews already generated (same review_id).</summary>
    Duplicates,
}

/// <summary>
/// The project's own synthetic review stream: multi-category reviews whose text follows their star rating, from a
/// seeded generator so that every run with the same seed is identical. Used by reviewctl generate, the silo's
/// --demo run and the benchmark.
/// </summary>
public sealed class SyntheticReviewGenerator(int seed)
{
    private static readonly (string Category, string[] Products)[] Catalogue =
    [
        ("Apparel", ["dress", "jacket", "pair of jeans", "sweater", "t-shirt", "pair of running shoes"]),
        ("Books", ["novel", "cookbook", "biography", "travel guide", "children's book"]),
        ("Electronics", ["pair of headphones", "phone charger", "bluetooth speaker", "smart watch", "laptop stand"]),
        ("Home", ["lamp", "throw blanket", "set of curtains", "wall clock", "storage basket"]),
        ("Kitchen", ["blender", "chef's knife", "non-stick pan", "coffee grinder", "set of mixing bowls"]),
        ("Toys", ["puzzle", "building set", "plush bear", "board game", "remote control car"]),
        ("Beauty", ["face cream", "shampoo", "lipstick", "hair dryer", "perfume"]),
        ("Sports", ["yoga mat", "water bottle", "tennis racket", "bike helmet", "pair of dumbbells"]),
    ];

    // Star mix leans positive, as real review sets do (about 55% five stars, 10% one star).
    private static readonly double[] StarWeights = [0.10, 0.07, 0.10, 0.18, 0.55];

    private static readonly string[][] Openings =
    [
        ["Terrible {0}, it broke after two days.", "This {0} is a complete waste of money.", "Worst {0} I have ever bought.", "Awful {0}, do not buy it."],
        ["Disappointed with this {0}.", "The {0} is poor quality and cheaply made.", "Not happy with the {0} at all.", "I expected much more from this {0}."],
        ["The {0} is okay, nothing special.", "An average {0} for the price.", "This {0} is fine but has some flaws.", "Mixed feelings about this {0}."],
        ["Good {0}, I am happy with it.", "Nice {0} and it works well.", "Solid {0}, would recommend.", "I like this {0} a lot."],
        ["Excellent {0}, absolutely love it!", "Perfect {0}, exceeded my expectations.", "The best {0} I have ever owned.", "Amazing {0}, highly recommend it!"],
    ];

    private static readonly string[][] Details =
    [
        ["Customer service never answered.", "It stopped working and I want a refund.", "The material feels cheap and smells bad.", "Returned it immediately."],
        ["The size was wrong and shipping was slow.", "It works sometimes but often fails.", "Would not buy again.", "Sent it back."],
        ["Delivery was on time.", "It does the job.", "Quality could be better.", "Fair value overall."],
        ["Shipping was quick.", "Good value for the money.", "My family likes it.", "It looks great."],
        ["Fast delivery and great quality.", "I bought a second one as a gift.", "Worth every penny.", "Five stars from me."],
    ];

    private static readonly string[] Sources = ["partner-site", "twitter", "support", "mobile-app", "email"];

    private readonly Random _random = new(seed);
    private readonly List<ReviewMessage> _recent = [];
    private long _sequence;

    /// <summary>The categories the generator uses.</summary>
    public static IReadOnlyList<string> Categories { get; } = Catalogue.Select(c => c.Category).ToArray();

    /// <summary>The next ordinary review.</summary>
    public ReviewMessage Next(long? eventTimeMs = null)
    {
        var (category, products) = Catalogue[_random.Next(Catalogue.Length)];
        var stars = DrawStars();
        var review = Build(category, products[_random.Next(products.Length)], stars, eventTimeMs);
        Remember(review);
        return review;
    }

    /// <summary>Records of the given anomaly kind (<paramref name="count"/> of them).</summary>
    public IEnumerable<ReviewMessage> Inject(InjectedAnomaly kind, int count, long? eventTimeMs = null)
    {
        switch (kind)
        {
            case InjectedAnomaly.None:
                for (var i = 0; i < count; i++)
                {
                    yield return Next(eventTimeMs);
                }
                break;
            case InjectedAnomaly.OneStarBurst:
                var template = Build("Electronics", "phone charger", 1, eventTimeMs);
                for (var i = 0; i < count; i++)
                {
                    yield return new ReviewMessage
                    {
                        ReviewId = NextId(),
                        ProductCategory = template.ProductCategory,
                        ProductId = template.ProductId,
                        ProductTitle = template.ProductTitle,
                        StarRating = 1,
                        ReviewHeadline = template.ReviewHeadline,
                        ReviewBody = template.ReviewBody,
                        Source = "twitter",
                        EventTimeMs = eventTimeMs,
                    };
                }
                break;
            case InjectedAnomaly.Malformed:
                for (var i = 0; i < count; i++)
                {
                    var review = Next(eventTimeMs);
                    switch (i % 4)
                    {
                        case 0: review.ReviewId = ""; break;
                        case 1: review.ProductCategory = ""; break;
                        case 2: review.ReviewBody = new string('x', 70 * 1024); break;
                        default: review.StarRating = 9; break;
                    }
                    yield return review;
                }
                break;
            case InjectedAnomaly.CategoryFlood:
                var (category, products) = Catalogue[_random.Next(Catalogue.Length)];
                for (var i = 0; i < count; i++)
                {
                    yield return Build(category, products[_random.Next(products.Length)], DrawStars(), eventTimeMs);
                }
                break;
            case InjectedAnomaly.Duplicates:
                for (var i = 0; i < count && _recent.Count > 0; i++)
                {
                    yield return _recent[_random.Next(_recent.Count)];
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown anomaly kind");
        }
    }

    private ReviewMessage Build(string category, string product, int stars, long? eventTimeMs)
    {
        var opening = string.Format(System.Globalization.CultureInfo.InvariantCulture, Pick(Openings[stars - 1]), product);
        var body = _random.NextDouble() < 0.7 ? opening + " " + Pick(Details[stars - 1]) : opening;
        var productNumber = _random.Next(1, 500);
        return new ReviewMessage
        {
            Marketplace = "US",
            CustomerId = _random.Next(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ReviewId = NextId(),
            ProductId = $"P{category[..3].ToUpperInvariant()}{productNumber:D5}",
            ProductParent = productNumber.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ProductTitle = $"{char.ToUpperInvariant(product[0])}{product[1..]} model {productNumber}",
            ProductCategory = category,
            StarRating = stars,
            HelpfulVotes = _random.Next(0, 5),
            TotalVotes = _random.Next(5, 10),
            Vine = false,
            VerifiedPurchase = _random.NextDouble() < 0.8,
            ReviewHeadline = opening.Split(',', '.', '!')[0],
            ReviewBody = body,
            ReviewDate = "2026-11-27",
            Source = Sources[_random.Next(Sources.Length)],
            EventTimeMs = eventTimeMs,
        };
    }

    private int DrawStars()
    {
        var u = _random.NextDouble();
        for (var s = 0; s < StarWeights.Length; s++)
        {
            u -= StarWeights[s];
            if (u < 0)
            {
                return s + 1;
            }
        }
        return 5;
    }

    // 14 characters, like Amazon review ids (R + 13 alphanumerics), unique per generator.
    private string NextId()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        Span<char> id = stackalloc char[14];
        id[0] = 'R';
        var n = (ulong)_sequence++ * 0x9E3779B97F4A7C15UL ^ (ulong)seed;
        for (var i = 13; i >= 1; i--)
        {
            id[i] = alphabet[(int)(n % 36)];
            n /= 36;
        }
        return new string(id);
    }

    private void Remember(ReviewMessage review)
    {
        if (_recent.Count < 1_000)
        {
            _recent.Add(review);
        }
        else
        {
            _recent[_random.Next(_recent.Count)] = review;
        }
    }

    private string Pick(string[] options) => options[_random.Next(options.Length)];
}
