using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using ReviewOrleans.Sentiment.Lexicon;

namespace ReviewOrleans.Sentiment.FastText;

/// <summary>Settings of <see cref="HashedNgramTokenizer"/>; stored in the manifest's <c>tokenizer</c> object.</summary>
/// <param name="Buckets">Rows of the embedding table; every feature hashes into 0..Buckets-1.</param>
/// <param name="MaxWords">Tokens read per text; the rest of a longer text is ignored (bounds the cost of a 1 MB text).</param>
/// <param name="Bigrams">Whether adjacent-token bigrams are features too (fastText's <c>-wordNgrams 2</c>).</param>
/// <param name="NegationScope">Tokens after a negation ("not", "n't", "never", ...) whose unigram is marked as negated; 0 disables.</param>
/// <param name="Pooling"><c>mean</c> (fastText: each of n features weighs 1/n) or <c>sqrt</c> (1/√n, the scale of
/// an L2-normalised binary bag of words, so longer texts give more confident predictions).</param>
/// <param name="Lexicon">Word list whose entries add a feature for their valence class (see
/// <see cref="HashedNgramTokenizer"/>): <c>vader</c>, <c>afinn-165</c> or <c>none</c>.</param>
internal sealed record HashedNgramOptions(int Buckets, int MaxWords, bool Bigrams = true, int NegationScope = 3, string Pooling = "mean",
    string Lexicon = HashedNgramOptions.NoLexicon)
{
    public const string TypeName = "hashed-ngrams";

    /// <summary>The <c>lexicon</c> value for no lexicon features; also what a manifest without the field means.</summary>
    public const string NoLexicon = "none";

    /// <summary>Values <see cref="Lexicon"/> may take.</summary>
    public static readonly IReadOnlyList<string> KnownLexicons = [VaderLexicon.Name, Afinn165.Name, NoLexicon];

    /// <summary>
    /// Largest accepted maxWords: a scorer holds batch × <see cref="MaxFeatures"/> (up to 3·maxWords − 1) feature ids per buffer set, so larger
    /// values would fail on the first batch instead of when the model loads (the scorer also bounds the product).
    /// </summary>
    public const int MaxWordsLimit = 4096;

    /// <summary>Most features one text can produce: its unigrams, the bigrams between them and a lexicon feature per word.</summary>
    public int MaxFeatures => (Bigrams ? 2 * MaxWords - 1 : MaxWords) + (Lexicon == NoLexicon ? 0 : MaxWords);

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
        ["lexicon"] = Lexicon,
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
            SentimentModelManifest.ReadString(json, "pooling", manifestPath),
            json.ContainsKey("lexicon") ? SentimentModelManifest.ReadString(json, "lexicon", manifestPath) : NoLexicon);
        if (options.Buckets < 1 || options.MaxWords < 1 || options.MaxWords > MaxWordsLimit || options.NegationScope < 0)
        {
            throw new SentimentModelException(
                $"{manifestPath}: field 'tokenizer' needs buckets ≥ 1, maxWords 1..{MaxWordsLimit} and negationScope ≥ 0");
        }
        if (options.Pooling is not ("mean" or "sqrt"))
        {
            throw new SentimentModelException($"{manifestPath}: field 'tokenizer.pooling' is '{options.Pooling}'; expected 'mean' or 'sqrt'");
        }
        if (!KnownLexicons.Contains(options.Lexicon))
        {
            throw new SentimentModelException(
                $"{manifestPath}: field 'tokenizer.lexicon' is '{options.Lexicon}'; expected one of {string.Join(", ", KnownLexicons)}");
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
/// count as "good". With a lexicon, a word in it adds one more feature that stands for its valence (−5..+5) and
/// whether it is negated, shared by every word of that class: the model learns what "a +3 word" means from the
/// frequent ones and applies it to lexicon words the training data never showed, which is most of the gain on
/// out-of-domain text (cf. the lexicon features of Mohammad et al. 2013, "NRC-Canada", §3). Words hash with 64-bit FNV-1a over lowercased UTF-16 units, bigrams combine the two word
/// hashes, and the splitmix64 finalizer spreads both over the buckets.
/// </remarks>
internal sealed class HashedNgramTokenizer
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private const ulong NegationSalt = 0x6E65676174656421UL;
    private const ulong BigramMultiplier = 0x9E3779B97F4A7C15UL;
    private const ulong LexiconSalt = 0x6C657869636F6E00UL;

    private const byte AsciiSymbol = 0;
    private const byte AsciiWord = 1;
    private const byte AsciiApostrophe = 2;
    private const byte AsciiSpace = 3;
    private static readonly byte[] AsciiKinds = BuildAsciiKinds();
    private static readonly byte[] AsciiLower = BuildAsciiLower();

    // Declared after the tables above: static fields initialise in order and Hash() reads AsciiLower.
    private static readonly HashSet<ulong> NegationHashes =
        [.. new[] { "not", "no", "never", "n't", "cannot", "nothing", "nobody", "none", "nor", "neither", "without", "hardly", "nowhere", "barely" }
            .Select(static w => Hash(w))];

    private static readonly ulong ContractionNt = Hash("n't");
    private static readonly ulong[] ContractionSuffixes = [Hash("'s"), Hash("'re"), Hash("'ll"), Hash("'ve"), Hash("'m"), Hash("'d")];

    // One bit per value of a hash's top 6 bits: most tokens are ruled out without a set lookup.
    private static readonly ulong NegationFilter = NegationHashes.Aggregate(0UL, static (f, h) => f | (1UL << (int)(h >> 58)));

    private readonly ulong _buckets;
    private readonly WordValenceTable? _valences;

    public HashedNgramTokenizer(HashedNgramOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Buckets, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxWords, 1, nameof(options));
        Options = options;
        _buckets = (ulong)options.Buckets;
        _valences = WordValenceTable.ForName(options.Lexicon, nameof(options));
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
            var c = text[pos];
            int symbol;
            int length;
            if (c < 128)
            {
                // ASCII fast path: most review text is ASCII, and a table lookup beats Unicode category queries.
                var kind = AsciiKinds[c];
                if (kind == AsciiWord || (kind == AsciiApostrophe && NextIsLetter(text, pos + 1)))
                {
                    pos = ReadWord(text, pos, ref state);
                    lastSymbol = -1;
                    continue;
                }
                if (kind == AsciiSpace)
                {
                    pos++;
                    lastSymbol = -1;
                    continue;
                }
                symbol = c;
                length = 1;
            }
            else
            {
                if (Rune.DecodeFromUtf16(text[pos..], out var rune, out length) != OperationStatus.Done)
                {
                    pos += Math.Max(1, length); // a lone surrogate is skipped, not an error: reviews arrive from anywhere
                    continue;
                }
                if (Rune.IsLetterOrDigit(rune))
                {
                    pos = ReadWord(text, pos, ref state);
                    lastSymbol = -1;
                    continue;
                }
                if (IsApostrophe(rune) && NextIsLetter(text, pos + length))
                {
                    pos = ReadWord(text, pos, ref state);
                    lastSymbol = -1;
                    continue;
                }
                if (Rune.IsWhiteSpace(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                    or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark)
                {
                    pos += length;
                    lastSymbol = -1;
                    continue;
                }
                symbol = rune.Value;
            }
            pos += length;
            if (symbol == lastSymbol)
            {
                continue; // "!!!" reads as one "!"
            }
            lastSymbol = symbol;
            if (symbol is '.' or ',' or ';' or ':' or '!' or '?')
            {
                state.NegationLeft = 0;
            }
            Emit(Hash(text.Slice(pos - length, length)), ref state, negatable: false);
        }
        return state.Count;
    }

    /// <summary>The 64-bit hash of one token as <see cref="Tokenize"/> computes it (for tests and the trainer).</summary>
    public static ulong Hash(ReadOnlySpan<char> token)
    {
        var h = FnvOffset;
        foreach (var c in token)
        {
            h = (h ^ Lower(c)) * FnvPrime;
        }
        return h;
    }

    /// <summary>
    /// Reads the word starting at <paramref name="start"/>, hashing it while it scans, and emits it split the Penn
    /// Treebank way: "don't" → "do" "n't"; "they're" → "they" "'re"; a leading quote that is not a contraction
    /// suffix ("'cause", 'quoted') is dropped. Returns the word's end.
    /// </summary>
    /// <remarks>One pass: besides the running hash it keeps the hash before the last apostrophe, the hash before the
    /// character preceding it (the stem of "n't") and the hash of the suffix from it, so no word is hashed twice.</remarks>
    private int ReadWord(ReadOnlySpan<char> text, int start, ref EmitState state)
    {
        var pos = start;
        var n = 0;
        var h = FnvOffset;
        var hBeforeLast = FnvOffset; // hash of the word without its latest character
        var lastChar = '\0';
        var apostrophe = -1;
        var hBeforeApostrophe = FnvOffset;
        var hStemOfNt = FnvOffset;
        var charBeforeApostrophe = '\0';
        var hSuffix = FnvOffset;
        while (pos < text.Length)
        {
            var c = text[pos];
            int length;
            if (c < 128)
            {
                var kind = AsciiKinds[c];
                if (kind != AsciiWord && !(kind == AsciiApostrophe && NextIsLetter(text, pos + 1)))
                {
                    break;
                }
                length = 1;
            }
            else
            {
                if (Rune.DecodeFromUtf16(text[pos..], out var rune, out length) != OperationStatus.Done)
                {
                    break;
                }
                var continues = Rune.IsLetterOrDigit(rune)
                    || (pos > start && Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)
                    || (IsApostrophe(rune) && NextIsLetter(text, pos + length));
                if (!continues)
                {
                    break;
                }
            }
            for (var i = 0; i < length; i++)
            {
                var lower = Lower(text[pos + i]);
                if (lower == '\'')
                {
                    apostrophe = n;
                    hBeforeApostrophe = h;
                    hStemOfNt = hBeforeLast;
                    charBeforeApostrophe = lastChar;
                    hSuffix = FnvOffset;
                }
                hBeforeLast = h;
                h = (h ^ lower) * FnvPrime;
                hSuffix = (hSuffix ^ lower) * FnvPrime;
                lastChar = lower;
                n++;
            }
            pos += length;
        }
        if (n > 3 && apostrophe == n - 2 && lastChar == 't' && charBeforeApostrophe == 'n')
        {
            EmitToken(hStemOfNt, ref state);
            EmitToken(ContractionNt, ref state);
        }
        else if (apostrophe > 0 && Array.IndexOf(ContractionSuffixes, hSuffix) >= 0)
        {
            EmitToken(hBeforeApostrophe, ref state);
            EmitToken(hSuffix, ref state);
        }
        else if (apostrophe == 0 && Array.IndexOf(ContractionSuffixes, h) < 0 && h != ContractionNt)
        {
            EmitToken(Hash(text[(start + 1)..pos]), ref state);
        }
        else
        {
            EmitToken(h, ref state);
        }
        return pos;
    }

    private void EmitToken(ulong h, ref EmitState state)
    {
        if (state.Words >= Options.MaxWords)
        {
            return;
        }
        Emit(h, ref state, negatable: true);
        if (Options.NegationScope > 0 && (NegationFilter & (1UL << (int)(h >> 58))) != 0 && NegationHashes.Contains(h))
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
        if (negatable && _valences is not null && _valences.TryGet(h, out var valence))
        {
            state.Features[state.Count++] = Bucket(LexiconSalt + (ulong)(2 * (valence + 5) + (negated ? 1 : 0)));
        }
    }

    /// <summary>Maps a hash onto 0..buckets-1 by multiply-shift (Lemire 2019, "Fast random integer generation in an
    /// interval"), which avoids a 64-bit division per feature.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Bucket(ulong h) => (long)Math.BigMul(Mix(h), _buckets, out _);

    /// <summary>splitmix64 finalizer (Steele, Lea and Flood 2014), so that similar hashes land in distant buckets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Case folding used for hashing: invariant lowercase, and the typographic apostrophe as ASCII.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static char Lower(char c) => c < 128 ? (char)AsciiLower[c] : c == '\u2019' ? '\'' : char.ToLowerInvariant(c);

    private static byte[] BuildAsciiKinds()
    {
        var kinds = new byte[128];
        for (var c = 0; c < 128; c++)
        {
            kinds[c] = char.IsLetterOrDigit((char)c) ? AsciiWord
                : c == '\'' ? AsciiApostrophe
                : char.IsWhiteSpace((char)c) || char.IsControl((char)c) ? AsciiSpace
                : AsciiSymbol;
        }
        return kinds;
    }

    private static byte[] BuildAsciiLower()
    {
        var lower = new byte[128];
        for (var c = 0; c < 128; c++)
        {
            lower[c] = (byte)char.ToLowerInvariant((char)c);
        }
        return lower;
    }

    private static bool NextIsLetter(ReadOnlySpan<char> text, int pos) =>
        pos < text.Length && Rune.DecodeFromUtf16(text[pos..], out var next, out _) == OperationStatus.Done && Rune.IsLetter(next);

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
