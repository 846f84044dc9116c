using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using ReviewOrleans.Sentiment.Lexicon;

namespace ReviewOrleans.Sentiment.FastText;

/// <summary>
/// Valences of single-word lexicon entries, keyed by the word's <see cref="HashedNgramTokenizer.Hash"/>, so the
/// tokenizer can look a token up by the hash it already computed. A 128 Kibit filter over the hash's top 17 bits
/// answers most misses without a dictionary lookup (with VADER's ~6,560 words about 5 % of other words pass it).
/// </summary>
internal sealed class WordValenceTable
{
    private static readonly Lazy<WordValenceTable> Afinn = new(() => Build(Afinn165.Valences.Select(e => (e.Key, (double)e.Value))));
    private static readonly Lazy<WordValenceTable> Vader = new(() => Build(VaderLexicon.Valences.Select(e => (e.Key, e.Value))));

    private readonly ulong[] _filter = new ulong[1 << 11];
    private readonly FrozenDictionary<ulong, sbyte> _valences;

    private WordValenceTable(Dictionary<ulong, sbyte> valences)
    {
        _valences = valences.ToFrozenDictionary();
        foreach (var h in valences.Keys)
        {
            _filter[(int)(h >> 53)] |= 1UL << (int)((h >> 47) & 63);
        }
    }

    /// <summary>Entries in the table.</summary>
    public int Count => _valences.Count;

    /// <summary>The table for a manifest's <c>tokenizer.lexicon</c> name; null for "none".</summary>
    public static WordValenceTable? ForName(string name) => name switch
    {
        HashedNgramOptions.NoLexicon => null,
        Afinn165.Name => Afinn.Value,
        VaderLexicon.Name => Vader.Value,
        _ => throw new ArgumentException(
            $"unknown lexicon '{name}'; expected one of {string.Join(", ", HashedNgramOptions.KnownLexicons)}", nameof(name)),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ulong wordHash, out sbyte valence)
    {
        if ((_filter[(int)(wordHash >> 53)] & (1UL << (int)((wordHash >> 47) & 63))) == 0)
        {
            valence = 0;
            return false;
        }
        return _valences.TryGetValue(wordHash, out valence);
    }

    /// <summary>
    /// Keeps the entries the tokenizer reads as one token (letters and digits only: phrases, emoticons and entries
    /// with an apostrophe or hyphen never match a single token), with the valence rounded to an integer class in
    /// −5..+5; entries that round to 0 carry no polarity and are left out.
    /// </summary>
    private static WordValenceTable Build(IEnumerable<(string Word, double Valence)> lexicon)
    {
        var valences = new Dictionary<ulong, sbyte>();
        foreach (var (word, valence) in lexicon)
        {
            var valenceClass = (sbyte)Math.Clamp(Math.Round(valence, MidpointRounding.AwayFromZero), -5, 5);
            if (valenceClass != 0 && word.Length > 0 && word.All(char.IsLetterOrDigit))
            {
                valences[HashedNgramTokenizer.Hash(word)] = valenceClass;
            }
        }
        return new WordValenceTable(valences);
    }
}
