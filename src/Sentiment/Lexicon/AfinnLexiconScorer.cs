using System.Text.RegularExpressions;

namespace ReviewOrleans.Sentiment.Lexicon;

/// <summary>
/// The word-list baseline: <see cref="Afinn165"/> valences summed over a text with three rules from VADER
/// (Hutto and Gilbert 2014, §3: <c>SentimentIntensityAnalyzer</c>): a negation among the three preceding words
/// scales a valence by −0.74, valences before "but" count half and after it 1.5 times, and the sum is normalised
/// to a compound score s/√(s²+15) in (−1, 1). Stars are round(3 + 2·compound), as a one-hot distribution, so the
/// baseline goes through the same metrics as the models.
/// </summary>
internal sealed partial class AfinnLexiconScorer : ISentimentScorer
{
    private const double NegationScale = -0.74; // VADER's N_SCALAR
    private const double Alpha = 15; // VADER's normalisation constant
    private static readonly HashSet<string> Negations = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "n't", "cannot", "nothing", "nobody", "none", "nor", "neither", "without", "hardly",
        "dont", "cant", "wont", "didnt", "doesnt", "isnt", "wasnt", "arent", "werent", "couldnt", "wouldnt", "shouldnt",
    };

    public SentimentModelInfo Model { get; } = new("afinn-165", "165", "lexicon");

    /// <summary>Number of entries (words and phrases) in the lexicon.</summary>
    public static int LexiconSize => Afinn165.Valences.Count;

    /// <summary>The compound score in (−1, 1) of <paramref name="text"/>; 0 when no lexicon word occurs.</summary>
    public static double Compound(string text)
    {
        var lexicon = Afinn165.Valences;
        var tokens = new List<string>();
        foreach (Match m in WordPattern().Matches(text))
        {
            tokens.Add(m.Value.ToLowerInvariant().Replace('\u2019', '\''));
        }
        var butAt = tokens.LastIndexOf("but");
        double sum = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            double valence;
            var span = 1;
            if (i + 2 < tokens.Count && lexicon.TryGetValue($"{tokens[i]} {tokens[i + 1]} {tokens[i + 2]}", out var v3))
            {
                valence = v3;
                span = 3;
            }
            else if (i + 1 < tokens.Count && lexicon.TryGetValue($"{tokens[i]} {tokens[i + 1]}", out var v2))
            {
                valence = v2;
                span = 2;
            }
            else if (lexicon.TryGetValue(tokens[i], out var v1))
            {
                valence = v1;
            }
            else
            {
                continue;
            }
            for (var j = Math.Max(0, i - 3); j < i; j++)
            {
                if (IsNegation(tokens[j]))
                {
                    valence *= NegationScale;
                    break;
                }
            }
            if (butAt >= 0)
            {
                valence *= i < butAt ? 0.5 : i > butAt ? 1.5 : 1;
            }
            sum += valence;
            i += span - 1;
        }
        return sum / Math.Sqrt((sum * sum) + Alpha);
    }

    /// <summary>Stars for a compound score: round(3 + 2·compound), so ±0.25 is the edge of the neutral 3.</summary>
    public static int StarsOf(double compound) => Math.Clamp((int)Math.Round(3 + (2 * compound), MidpointRounding.AwayFromZero), 1, 5);

    public SentimentResult[] Score(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var results = new SentimentResult[texts.Count];
        Score(texts, results);
        return results;
    }

    public void Score(IReadOnlyList<string> texts, Span<SentimentResult> results)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (results.Length < texts.Count)
        {
            throw new ArgumentException($"results has room for {results.Length} results but {texts.Count} texts were given", nameof(results));
        }
        Span<float> p = stackalloc float[SentimentResult.StarCount];
        for (var i = 0; i < texts.Count; i++)
        {
            p.Clear();
            p[StarsOf(Compound(texts[i] ?? throw new ArgumentException($"text {i} is null", nameof(texts)))) - 1] = 1f;
            results[i] = new SentimentResult(p, Model);
        }
    }

    public void Dispose()
    {
    }

    private static bool IsNegation(string token) => Negations.Contains(token) || token.EndsWith("n't", StringComparison.Ordinal);

    [GeneratedRegex(@"[\p{L}\p{N}]+(?:['’][\p{L}]+)*|(?<=\s|^)n't")]
    private static partial Regex WordPattern();
}
