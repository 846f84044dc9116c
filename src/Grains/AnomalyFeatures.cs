using System.Globalization;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.Grains;

/// <summary>
/// Turns a scored review into the numbers the anomaly detector sees. The "default" profile looks at schema and
/// values (predicted stars, body length, missing fields, unknown category, non-text share of the body); the "kda"
/// profile keeps the star rating alone, as the reference pipeline's RANDOM_CUT_FOREST did.
/// </summary>
public sealed class AnomalyFeatures
{
    public const string DefaultProfile = "default";
    public const string KdaProfile = "kda";

    public static readonly string[] Profiles = [DefaultProfile, KdaProfile];

    private static readonly string[] DefaultNames = ["predicted_stars", "log_body_length", "missing_fields", "unknown_category", "non_text_ratio"];
    private static readonly string[] KdaNames = ["star_rating"];

    private readonly bool _kda;
    private readonly HashSet<string> _knownCategories;
    private readonly bool _learnCategories;

    public AnomalyFeatures(string profile, IEnumerable<string> knownCategories)
    {
        if (!IsKnownProfile(profile))
        {
            throw new ArgumentException($"unknown anomaly profile '{profile}'; expected one of: {string.Join(", ", Profiles)}", nameof(profile));
        }
        _kda = profile == KdaProfile;
        _knownCategories = new HashSet<string>(knownCategories, StringComparer.Ordinal);
        _learnCategories = _knownCategories.Count == 0;
        Profile = profile;
    }

    public string Profile { get; }

    public IReadOnlyList<string> Names => _kda ? KdaNames : DefaultNames;

    public static bool IsKnownProfile(string profile) => Array.IndexOf(Profiles, profile) >= 0;

    public static IReadOnlyList<string> NamesOf(string profile) => profile == KdaProfile ? KdaNames : DefaultNames;

    /// <summary>The features of one review, given the stars the model predicted for it.</summary>
    public double[] Extract(ReviewMessage review, int predictedStars)
    {
        if (_kda)
        {
            return [review.StarRating ?? predictedStars];
        }
        var unknownCategory = _learnCategories
            ? (_knownCategories.Add(review.ProductCategory) ? 1.0 : 0.0)
            : (_knownCategories.Contains(review.ProductCategory) ? 0.0 : 1.0);
        return
        [
            predictedStars,
            Math.Log(1 + review.ReviewBody.Length),
            review.MissingOptionalFieldCount(),
            unknownCategory,
            NonTextRatio(review.ReviewBody),
        ];
    }

    /// <summary>Share of characters that are neither letters, digits, whitespace nor ordinary punctuation.</summary>
    public static double NonTextRatio(string text)
    {
        if (text.Length == 0)
        {
            return 0;
        }
        var other = 0;
        foreach (var c in text)
        {
            var category = char.GetUnicodeCategory(c);
            var textual = char.IsLetterOrDigit(c) || char.IsWhiteSpace(c) || category is UnicodeCategory.OtherPunctuation
                or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
                or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.NonSpacingMark;
            other += textual ? 0 : 1;
        }
        return (double)other / text.Length;
    }
}
