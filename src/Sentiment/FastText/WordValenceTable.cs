using System.Numerics;
using System.Runtime.CompilerServices;
using ReviewOrleans.Sentiment.Lexicon;

namespace ReviewOrleans.Sentiment.FastText;

/// <summary>
/// Valences of single-word lexicon entries, keyed by the word's <see cref="HashedNgramTokenizer.Hash"/>, so the
/// tokenizer can look a token up by the hash it already computed. A 128 Kibit filter over the hash's top 17 bits
/// answers most misses from 16 KB (with VADER's ~6,560 words about 5 % of other words pass it); the rest probe an
/// open-addressing table at most a quarter full, keyed by the whole hash.
/// </summary>
internal sealed class WordValenceTable
{
    private static readonly Lazy<WordValenceTable> Afinn = new(() => Build(Afinn165.Valences.Select(e => (e.Key, (double)e.Value))));
    private static readonly Lazy<WordValenceTable> Vader = new(() => Build(VaderLexicon.Valences.Select(e => (e.Key, e.Value))));

    private readonly ulong[] _filter = new ulong[1 << 11];
    private readonly ulong[] _keys;
    private readonly sbyte[] _values; // 0 marks an empty slot: entries of class 0 are not kept
    private readonly int _shift;

    private WordValenceTable(Dictionary<ulong, sbyte> valences)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, 4 * valences.Count));
        _keys = new ulong[size];
        _values = new sbyte[size];
        _shift = 64 - BitOperations.Log2((uint)size);
        foreach (var (h, valence) in valences)
        {
            _filter[(int)(h >> 53)] |= 1UL << (int)((h >> 47) & 63);
            var slot = Slot(h);
            while (_values[slot] != 0)
            {
                slot = (slot + 1) & (size - 1);
            }
            _keys[slot] = h;
            _values[slot] = valence;
        }
        Count = valences.Count;
    }

    /// <summary>Entries in the table.</summary>
    public int Count { get; }

    /// <summary>The table for a manifest's <c>tokenizer.lexicon</c> name; null for "none".</summary>
    /// <param name="paramName">The caller's argument to name when <paramref name="name"/> is unknown.</param>
    public static WordValenceTable? ForName(string name, string paramName = "name") => name switch
    {
        HashedNgramOptions.NoLexicon => null,
        Afinn165.Name => Afinn.Value,
        VaderLexicon.Name => Vader.Value,
        _ => throw new ArgumentException(
            $"unknown lexicon '{name}'; expected one of {string.Join(", ", HashedNgramOptions.KnownLexicons)}", paramName),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(ulong wordHash, out sbyte valence)
    {
        if ((_filter[(int)(wordHash >> 53)] & (1UL << (int)((wordHash >> 47) & 63))) == 0)
        {
            valence = 0;
            return false;
        }
        var mask = _keys.Length - 1;
        for (var slot = Slot(wordHash); ; slot = (slot + 1) & mask)
        {
            valence = _values[slot];
            if (valence == 0 || _keys[slot] == wordHash)
            {
                return valence != 0;
            }
        }
    }

    // Bits below the filter's: FNV-1a's top bits are well mixed, and a filter pass says nothing about these.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(ulong wordHash) => (int)((wordHash << 17) >> _shift);

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
