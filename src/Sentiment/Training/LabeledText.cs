namespace ReviewOrleans.Sentiment.Training;

/// <summary>
/// One labelled text. <see cref="Stars"/> is 1..5 when the source has star ratings and 0 when it only says
/// positive or negative; binary labels are partial labels on the star scale (positive = 4 or 5 stars,
/// negative = 1 or 2).
/// </summary>
internal readonly record struct LabeledText(string Text, int Stars, bool? Positive, string Dataset, string Category)
{
    public static LabeledText FromStars(string text, int stars, string dataset, string category) =>
        new(text, stars, stars >= 4 ? true : stars <= 2 ? false : null, dataset, category);

    public static LabeledText FromBinary(string text, bool positive, string dataset, string category) =>
        new(text, 0, positive, dataset, category);

    /// <summary>Bit k-1 set for each star rating k the label allows (one bit for stars, two for binary).</summary>
    public int TargetMask => Stars > 0 ? 1 << (Stars - 1) : Positive == true ? 0b11000 : 0b00011;
}
