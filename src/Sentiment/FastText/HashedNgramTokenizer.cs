using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;

namespace ReviewOrleans.Sentiment.FastText;

/// <summary>Settings of <see cref="HashedNgramTokenizer"/>; stored in the manifest's <c>tokenizer</c> object.</summary>
/// <param name="Buckets">Rows of the embedding table; every feature hashes into 0..Buckets-1.</param>
/// <param name="MaxWords">Tokens read per text; the rest of a longer text is ignored (bounds the cost of a 1 MB text).</param>
/// <param name="Bigrams">Whether adjacent-token bigrams are features too (fastText's <c>-wordNgrams 2</c>).</param>
/// <param name="NegationScope">Tokens after a negation ("not", "n't", "never", ...) whose unigram is marked as negated; 0 disables.</param>
/// <param name="Pooling"><c>mean</c> (fastText: each of n features weighs 1/n) or <c>sqrt</c> (1/√n, the scale of
/// an L2-normalised binary bag of words, so longer texts give more confident predictions).</param>
internal sealed record HashedNgramOptions(int Buckets, int MaxWords, bool Bigrams = true, int NegationScope = 3, string Pooling = "mean")
{
    public const string TypeName = "hashed-ngrams";

    /// <summary>Most features one text can produce: its unigrams plus the bigrams between them.</summary>
    public int MaxFeatures => Bigrams ? 2 * MaxWords - 1 : MaxWords;

    /// <summary>The weight of each feature of a text with <paramref name="count"/> features (0 when there are none).</summary>
    public float FeatureWeight(int count) => count == 0 ? 0f : Pooling == "sqrt" ? 1f / MathF.Sqrt(count) : 1f / count;

    public JsonObject ToJson() => new()
    {
        ["type"] = TypeName,
        ["hash"] = "fnv1a64-lowercase+splitmix64",
        ["buckets"] = Buckets,
        ["maxWords"] = MaxWords,
        ["bigrams"] = Bigrams,
        ["negationScope"] = NegationScope,
        ["pooling"] = Pooling,
    };

    public static HashedNgramOptions FromJson(JsonObject json, string manifestPath)
    {
        var type = SentimentModelManifest.ReadString(json, "type", manifestPath);
        if (type != TypeName)
        {
            throw new SentimentModelException($"{manifestPath}: field 'tokenizer.type' is '{type}'; a fasttext model needs '{TypeName}'");
        }
        var options = new HashedNgramOptions(
            SentimentModelManifest.ReadInt(json, "buckets", manifestPath),
            SentimentModelManifest.ReadInt(json, "maxWords", manifestPath),
            SentimentModelManifest.ReadBool(json, "bigrams", manifestPath),
            SentimentModelManifest.ReadInt(json, "negationScope", manifestPath),
            SentimentModelManifest.ReadString(json, "pooling", manifestPath));
        if (options.Buckets < 1 || options.MaxWords < 1 || options.NegationScope < 0)
        {
            throw new SentimentModelException($"{manifestPath}: field 'tokenizer' needs buckets ≥ 1, maxWords ≥ 1 and negationScope ≥ 0");
        }
        if (options.Pooling is not ("mean" or "sqrt"))
        {
            throw new SentimentModelException($"{manifestPath}: field 'tokenizer.pooling' is '{options.Pooling}'; expected 'mean' or 'sqrt'");
        }
        return options;
    }
}

/// <summary>
/// Turns a text into hashed feature ids: lowercased word unigrams and adjacent-token bigrams, hashed into a
/// fixed number of buckets (the hashing trick of fastText, Joulin et al. 2017 "Bag of Tricks for Efficient Text
/// Classification" §2.1, cf. <c>fasttext::Dictionary::addWordNgrams</c>). Works on spans: no string is created.
/// </summary>
/// <remarks>
/// Tokens are runs of letters, digits and combining marks (with inner apostrophes), or single symbols such as
/// "!" or an emoji (repeats collapsed). Contractions are split the way the Penn Treebank tokenizer does ("don't"
/// becomes "do" "n't", "it's" becomes "it" "'s"), which is also how the fdu-mtl training text is tokenized, so raw
/// and pre-tokenized text give the same features. Up to <see cref="HashedNgramOptions.NegationScope"/> tokens
/// after a negation get a distinct unigram hash (Das and Chen 2001; Pang et al. 2002 §4), so "not good" does not
/// count as "good". Words hash with 64-bit FNV-1a over lowercased UTF-16 units, bigrams combine the two word
/// hashes, and the splitmix64 finalizer spreads both over the buckets.
/// </remarks>
internal sealed class HashedNgramTokenizer
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private const ulong NegationSalt = 0x6E65676174656421UL;
    private const ulong BigramMultiplier = 0x9E3779B97F4A7C15UL;

    private static readonly HashSet<ulong> NegationHashes =
        [.. new[] { "not", "no", "never", "n't", "cannot", "nothing", "nobody", "none", "nor", "neither", "without", "hardly", "nowhere", "barely" }
            .Select(static w => Hash(w))];

    private static readonly ulong ContractionNt = Hash("n't");
    private static readonly ulong[] ContractionSuffixes = [Hash("'s"), Hash("'re"), Hash("'ll"), Hash("'ve"), Hash("'m"), Hash("'d")];

    private readonly ulong _buckets;

    public HashedNgramTokenizer(HashedNgramOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Buckets, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxWords, 1, nameof(options));
        Options = options;
        _buckets = (ulong)options.Buckets;
    }

    public HashedNgramOptions Options { get; }

    /// <summary>Size <paramref name="features"/> must have to hold any text's features.</summary>
    public int MaxFeatures => Options.MaxFeatures;

    /// <summary>
    /// Writes the feature ids of <paramref name="text"/> (its first <see cref="HashedNgramOptions.MaxWords"/> tokens)
    /// into <paramref name="features"/> and returns how many were written (0 for a text with no tokens).
    /// </summary>
    public int Tokenize(ReadOnlySpan<char> text, Span<long> features)
    {
        if (features.Length < MaxFeatures)
        {
            throw new ArgumentException($"needs room for {MaxFeatures} features", nameof(features));
        }
        var state = new EmitState { Features = features };
        var pos = 0;
        var lastSymbol = -1;
        while (pos < text.Length && state.Words < Options.MaxWords)
        {
            if (Rune.DecodeFromUtf16(text[pos..], out var rune, out var length) != OperationStatus.Done)
            {
                pos += Math.Max(1, length); // a lone surrogate is skipped, not an error: reviews arrive from anywhere
                continue;
            }
            if (IsWordRune(rune) || (IsApostrophe(rune) && NextIsLetter(text, pos + length)))
            {
                var end = ScanWord(text, pos + length);
                EmitWord(text[pos..end], ref state);
                pos = end;
                lastSymbol = -1;
                continue;
            }
            pos += length;
            var category = Rune.GetUnicodeCategory(rune);
            if (Rune.IsWhiteSpace(rune) || category is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark)
            {
                lastSymbol = -1;
                continue;
            }
            if (rune.Value == lastSymbol)
            {
                continue; // "!!!" reads as one "!"
            }
            lastSymbol = rune.Value;
            if (rune.Value is '.' or ',' or ';' or ':' or '!' or '?')
            {
                state.NegationLeft = 0;
            }
            var h = FnvOffset;
            h = HashRune(h, rune);
            Emit(h, ref state, negatable: false);
        }
        return state.Count;
    }

    /// <summary>The 64-bit hash of one token as <see cref="Tokenize"/> computes it (for tests and the trainer).</summary>
    public static ulong Hash(ReadOnlySpan<char> token)
    {
        var h = FnvOffset;
        foreach (var c in token)
        {
            h = HashChar(h, c);
        }
        return h;
    }

    private void EmitWord(ReadOnlySpan<char> word, ref EmitState state)
    {
        // Penn Treebank contraction split: "don't" → "do" "n't"; "they're" → "they" "'re"; a leading quote that is
        // not a contraction suffix ("'cause", 'quoted') is dropped.
        if (word.Length > 3 && Hash(word[^3..]) == ContractionNt)
        {
            EmitToken(word[..^3], ref state);
            EmitToken(word[^3..], ref state);
            return;
        }
        var apostrophe = LastApostrophe(word);
        if (apostrophe > 0 && Array.IndexOf(ContractionSuffixes, Hash(word[apostrophe..])) >= 0)
        {
            EmitToken(word[..apostrophe], ref state);
            EmitToken(word[apostrophe..], ref state);
            return;
        }
        if (apostrophe == 0 && Array.IndexOf(ContractionSuffixes, Hash(word)) < 0 && Hash(word) != ContractionNt)
        {
            word = word[1..];
        }
        EmitToken(word, ref state);
    }

    private void EmitToken(ReadOnlySpan<char> token, ref EmitState state)
    {
        if (token.IsEmpty || state.Words >= Options.MaxWords)
        {
            return;
        }
        var h = Hash(token);
        Emit(h, ref state, negatable: true);
        if (Options.NegationScope > 0 && NegationHashes.Contains(h))
        {
            state.NegationLeft = Options.NegationScope;
        }
    }

    private void Emit(ulong h, ref EmitState state, bool negatable)
    {
        var negated = negatable && state.NegationLeft > 0;
        if (state.NegationLeft > 0)
        {
            state.NegationLeft--;
        }
        state.Features[state.Count++] = Bucket(negated ? h ^ NegationSalt : h);
        if (Options.Bigrams && state.Words > 0)
        {
            state.Features[state.Count++] = Bucket((state.Previous * BigramMultiplier) + h + 1);
        }
        state.Previous = h;
        state.Words++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Bucket(ulong h) => (long)(Mix(h) % _buckets);

    /// <summary>splitmix64 finalizer (Steele, Lea and Flood 2014), so that similar hashes land in distant buckets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong HashChar(ulong h, char c)
    {
        c = c == '\u2019' ? '\'' : char.ToLowerInvariant(c);
        return (h ^ c) * FnvPrime;
    }

    private static ulong HashRune(ulong h, Rune rune)
    {
        Span<char> units = stackalloc char[2];
        var n = rune.EncodeToUtf16(units);
        for (var i = 0; i < n; i++)
        {
            h = HashChar(h, units[i]);
        }
        return h;
    }

    private static int ScanWord(ReadOnlySpan<char> text, int pos)
    {
        while (pos < text.Length)
        {
            if (Rune.DecodeFromUtf16(text[pos..], out var rune, out var length) != OperationStatus.Done)
            {
                break;
            }
            if (IsWordRune(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
            {
                pos += length;
            }
            else if (IsApostrophe(rune) && NextIsLetter(text, pos + length))
            {
                pos += length;
            }
            else
            {
                break;
            }
        }
        return pos;
    }

    private static int LastApostrophe(ReadOnlySpan<char> word)
    {
        for (var i = word.Length - 1; i >= 0; i--)
        {
            if (word[i] is '\'' or '\u2019')
            {
                return i;
            }
        }
        return -1;
    }

    private static bool NextIsLetter(ReadOnlySpan<char> text, int pos) =>
        pos < text.Length && Rune.DecodeFromUtf16(text[pos..], out var next, out _) == OperationStatus.Done && Rune.IsLetter(next);

    private static bool IsWordRune(Rune rune) => Rune.IsLetterOrDigit(rune);

    private static bool IsApostrophe(Rune rune) => rune.Value is '\'' or '\u2019';

    private ref struct EmitState
    {
        public Span<long> Features;
        public int Count;
        public int Words;
        public ulong Previous;
        public int NegationLeft;
    }
}
