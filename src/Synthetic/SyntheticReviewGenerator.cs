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

/// <summary>How long the generated review bodies are.</summary>
public enum ReviewLength
{
    /// <summary>One or two template sentences, about 6–15 words: the generator's original shape, and the default.</summary>
    Short,

    /// <summary>
    /// Word counts drawn like real reviews': log-normal with a median of 60 words (σ 0.85 in log space: about 90 %
    /// under 180 words, a tail to the 500-word limit), clipped to [1, 500], from sentences that follow the star rating.
    /// Every field but the body is what <see cref="Short"/> gives for the same seed.
    /// </summary>
    Realistic,
}

/// <summary>
/// The project's own synthetic review stream: multi-category reviews whose text follows their star rating, from a
/// seeded generator so that every run with the same seed is identical. Used by reviewctl generate, the silo's
/// --demo run and the benchmark. <paramref name="length"/> chooses the body's shape; <see cref="ReviewLength.Short"/>
/// (the default) produces, for a given seed, exactly what the generator always did.
/// </summary>
public sealed class SyntheticReviewGenerator(int seed, ReviewLength length = ReviewLength.Short)
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

    // Further sentences for realistic lengths, per star rating like the details; {0} is the product.
    private static readonly string[][] Middles =
    [
        ["The stitching came apart the first time I used the {0}.", "It looks nothing like the pictures and feels flimsy.",
            "I contacted the seller twice and got no reply.", "Honestly this was a complete waste of money.",
            "The {0} arrived damaged and the box was torn.", "Everything about it is cheap and badly made.",
            "I regret buying it and I will never order from this brand again.", "It is useless and I had to throw it away."],
        ["The {0} looked fine at first but the quality is poor.", "After a week it already shows signs of wear.",
            "The description promised more than it delivers.", "It is uncomfortable and not worth the price.",
            "I had higher hopes given the good ratings.", "Some parts work, but overall it is a letdown.",
            "The finish started to fade after a few days.", "I would not recommend it to a friend."],
        ["The {0} does what it says, no more and no less.", "Some things I like, others not so much.",
            "It is decent for everyday use.", "The quality is acceptable for the price.",
            "I might look for something better next time.", "It took a while to get used to it.",
            "Not bad, but not great either.", "It is an average product overall."],
        ["The {0} is well made and looks good.", "I use it almost every day and it holds up well.",
            "It is comfortable and easy to use.", "A small flaw, but overall I am very pleased.",
            "The quality is better than I expected for the price.", "I would buy it again.",
            "It fits well and feels sturdy.", "Happy with this purchase."],
        ["I absolutely love this {0}, it is perfect.", "The quality is outstanding and it feels premium.",
            "Everyone who sees it asks where I got it.", "It is the best purchase I have made this year.",
            "Wonderful design and it works flawlessly.", "I am thrilled with it and recommend it to everyone.",
            "Beautiful, comfortable and great value.", "I will definitely buy more from this brand."],
    ];

    // Sentences without sentiment, as real reviews have between the ones that carry it.
    private static readonly string[] Neutral =
    [
        "I ordered the {0} last month.", "I bought it as a present for my sister.",
        "It came in a plain box with the instructions inside.", "I have been using it at home and at work.",
        "I compared a few options before choosing this one.", "The package arrived on a Tuesday.",
        "I read the other reviews before ordering.", "I have owned similar products from other brands.",
    ];

    /// <summary>Median and log-space spread of <see cref="ReviewLength.Realistic"/> word counts, and their limit.</summary>
    public const double RealisticMedianWords = 60, RealisticSigma = 0.85;

    /// <inheritdoc cref="RealisticMedianWords"/>
    public const int MaxWords = 500;

    private static readonly string[] Sources = ["partner-site", "twitter", "support", "mobile-app", "email"];

    private readonly Random _random = new(seed);

    // Realistic bodies draw from their own sequence, so that every other field, and every draw the short shape makes,
    // stays what the short shape gives for the seed.
    private readonly Random? _bodyRandom = length switch
    {
        ReviewLength.Short => null,
        ReviewLength.Realistic => new Random(unchecked(seed * 31 + 0x5EED)),
        _ => throw new ArgumentOutOfRangeException(nameof(length), length, "unknown review length"),
    };
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
        if (_bodyRandom is not null)
        {
            body = RealisticBody(_bodyRandom, body, product, stars);
        }
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

    /// <summary>
    /// A body of a log-normal word count: the short body, then sentences of the same star rating (a fifth of them
    /// neutral) until the count is reached, cut to exactly that many words.
    /// </summary>
    private static string RealisticBody(Random random, string shortBody, string product, int stars)
    {
        var words = DrawWordCount(random);
        var text = new System.Text.StringBuilder(words * 7);
        var count = AppendWords(text, shortBody, words);
        string? previous = null;
        while (count < words)
        {
            var pool = random.NextDouble() < 0.2 ? Neutral
                : random.Next(3) switch { 0 => Details[stars - 1], _ => Middles[stars - 1] };
            var template = pool[random.Next(pool.Length)];
            if (ReferenceEquals(template, previous))
            {
                continue; // the same sentence twice in a row reads as a bug, not as a review
            }
            previous = template;
            count += AppendWords(text, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, product), words - count);
        }
        if (text[^1] is not ('.' or '!' or '?'))
        {
            text.Append('.');
        }
        return text.ToString();
    }

    /// <summary>Appends at most <paramref name="limit"/> words of <paramref name="sentence"/>; returns how many.</summary>
    private static int AppendWords(System.Text.StringBuilder text, string sentence, int limit)
    {
        var added = 0;
        foreach (var word in sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (added == limit)
            {
                break;
            }
            if (text.Length > 0)
            {
                text.Append(' ');
            }
            text.Append(word);
            added++;
        }
        if (added > 0 && added == limit && text[^1] == ',')
        {
            text.Length--; // a sentence cut after "Terrible dress," reads better without the comma
        }
        return added;
    }

    /// <summary>Log-normal word count (Box–Muller), rounded and clipped to [1, <see cref="MaxWords"/>].</summary>
    private static int DrawWordCount(Random random)
    {
        var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return (int)Math.Clamp(Math.Round(RealisticMedianWords * Math.Exp(RealisticSigma * z)), 1, MaxWords);
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
