using System.Text;
using ReviewOrleans.Sentiment.FastText;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class HashedNgramTokenizerTests
{
    private static readonly HashedNgramTokenizer Tokenizer = new(new HashedNgramOptions(Buckets: 1 << 20, MaxWords: 64));

    private static long[] Features(string text, HashedNgramTokenizer? tokenizer = null)
    {
        tokenizer ??= Tokenizer;
        var buffer = new long[tokenizer.MaxFeatures];
        var n = tokenizer.Tokenize(text, buffer);
        return buffer[..n];
    }

    [Fact]
    public void Tokenize_EmptyOrWhitespaceText_NoFeatures()
    {
        Assert.Empty(Features(""));
        Assert.Empty(Features("   \t\r\n  "));
    }

    [Fact]
    public void Tokenize_MixedCase_SameFeaturesAsLowercase()
    {
        Assert.Equal(Features("great product, love it"), Features("GREAT Product, LoVe iT"));
        Assert.Equal(Features("café über straße"), Features("CAFÉ ÜBER STRAßE"));
    }

    [Fact]
    public void Tokenize_WordsAndBigrams_UnigramsPlusAdjacentPairs()
    {
        // 3 tokens → 3 unigrams + 2 bigrams, all inside the bucket range.
        var f = Features("this fits perfectly");
        Assert.Equal(5, f.Length);
        Assert.All(f, id => Assert.InRange(id, 0, (1 << 20) - 1));
        Assert.Equal(5, f.Distinct().Count());
    }

    [Fact]
    public void Tokenize_RawContraction_SameAsTreebankTokens()
    {
        // fdu-mtl's training text is Penn Treebank tokenized; raw reviews must map onto the same features.
        Assert.Equal(Features("do n't like it 's size"), Features("Don't like it's size"));
        Assert.Equal(Features("do n't"), Features("don\u2019t"));
    }

    [Fact]
    public void Tokenize_Negation_ChangesFollowingUnigramOnly()
    {
        var good = Features("good");
        var notGood = Features("not good");
        Assert.DoesNotContain(good[0], notGood);
        // After clause punctuation the scope ends: "good" is plain again.
        Assert.Contains(good[0], Features("not bad. good"));
    }

    [Fact]
    public void Tokenize_Emoji_EachEmojiIsAToken()
    {
        var love = Features("love it 😍");
        var angry = Features("love it 😡");
        Assert.Equal(5, love.Length);
        Assert.NotEqual(love[^2], angry[^2]);
        // Repeats collapse; the variation selector and zero-width joiner are not tokens.
        Assert.Equal(love, Features("love it 😍😍😍"));
        Assert.Equal(Features("👍"), Features("👍\uFE0F"));
    }

    [Fact]
    public void Tokenize_NonLatinScriptsAndLoneSurrogate_WordsWithoutError()
    {
        Assert.Equal(3, Features("очень хорошо").Length);
        Assert.Equal(3, Features("とても 良い").Length);
        Assert.Equal(Features("good day"), Features("good \uD800day"));
        Assert.Equal(Features("good"), Features("\uDE0D good"));
    }

    [Fact]
    public void Tokenize_OneMegabyteText_TruncatesToMaxWords()
    {
        var sb = new StringBuilder(1 << 20);
        while (sb.Length < 1 << 20)
        {
            sb.Append("Absolutely lovely 💖 but the zipper BROKE. ");
        }
        var text = sb.ToString();
        Assert.True(text.Length >= 1 << 20);
        var f = Features(text);
        Assert.Equal(Tokenizer.MaxFeatures, f.Length);
        Assert.Equal(f, Features(text[..2000]));
    }

    [Fact]
    public void Tokenize_BufferTooSmall_ThrowsNamingParameter()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tokenizer.Tokenize("x", new long[3]));
        Assert.Equal("features", ex.ParamName);
    }

    private static readonly HashedNgramTokenizer VaderTokenizer = new(new HashedNgramOptions(Buckets: 1 << 20, MaxWords: 64, Lexicon: "vader"));

    [Fact]
    public void Tokenize_LexiconWord_AddsOneValenceClassFeatureSharedByItsClass()
    {
        // "superb" and "magnificent" are both +3 in VADER (3.1 and 2.9 rounded): with the lexicon each adds the
        // same extra feature, which a word outside the lexicon ("sweater") does not.
        var plain = Features("superb sweater");
        var lexical = Features("superb sweater", VaderTokenizer);
        Assert.Equal(plain.Length + 1, lexical.Length);
        Assert.Equal(plain, lexical.Where(f => f != lexical[1]).ToArray()); // the extra id follows the unigram
        Assert.Equal(lexical[1], Features("magnificent", VaderTokenizer)[1]);
        Assert.NotEqual(lexical[1], Features("awful", VaderTokenizer)[1]); // −2
        Assert.Equal(Features("sweater"), Features("sweater", VaderTokenizer));
    }

    [Fact]
    public void Tokenize_NegatedLexiconWord_DifferentValenceFeature()
    {
        var good = Features("good", VaderTokenizer);
        var notGood = Features("not good", VaderTokenizer);
        // not + good + bigram + good's valence class, negated.
        Assert.Equal(4, notGood.Length);
        Assert.DoesNotContain(good[1], notGood);
        Assert.Equal(notGood[3], Features("never good", VaderTokenizer)[3]);
    }

    [Fact]
    public void Tokenize_AllLexiconWordsAtMaxWords_FitsMaxFeatures()
    {
        var tokenizer = new HashedNgramTokenizer(new HashedNgramOptions(Buckets: 64, MaxWords: 8, Lexicon: "vader"));
        Assert.Equal(8 + 7 + 8, tokenizer.MaxFeatures);
        var f = Features(string.Join(' ', Enumerable.Repeat("excellent", 50)), tokenizer);
        Assert.Equal(tokenizer.MaxFeatures, f.Length);
    }

    [Fact]
    public void Lexicons_ValenceClasses_RoundedAndPolarOnly()
    {
        Assert.Equal(HashedNgramOptions.NoLexicon, new HashedNgramOptions(64, 8).Lexicon);
        Assert.Null(WordValenceTable.ForName(HashedNgramOptions.NoLexicon));
        var vader = WordValenceTable.ForName("vader")!;
        Assert.True(vader.TryGet(HashedNgramTokenizer.Hash("horrible"), out var horrible)); // −2.5 rounds away from zero
        Assert.Equal(-3, horrible);
        Assert.True(vader.TryGet(HashedNgramTokenizer.Hash("Love"), out var love)); // 3.2, any case
        Assert.Equal(3, love);
        Assert.False(vader.TryGet(HashedNgramTokenizer.Hash("sweater"), out _));
        Assert.False(vader.TryGet(HashedNgramTokenizer.Hash("pls"), out _)); // 0.3: class 0, no polarity
        Assert.False(vader.TryGet(HashedNgramTokenizer.Hash("idk"), out _)); // −0.4
        Assert.False(vader.TryGet(HashedNgramTokenizer.Hash(":)"), out _)); // 2.0, but never one token
        // 6,559 of the 7,517 entries are single words whose valence rounds to a non-zero class.
        Assert.Equal(6559, vader.Count);
        var afinn = WordValenceTable.ForName("afinn-165")!;
        Assert.True(afinn.TryGet(HashedNgramTokenizer.Hash("outstanding"), out var outstanding));
        Assert.Equal(5, outstanding);
        Assert.Throws<ArgumentException>(() => WordValenceTable.ForName("sentiwordnet"));
    }

    [Fact]
    public void Hash_KnownVector_MatchesFnv1a64()
    {
        // FNV-1a 64 of "a" (lowercase ASCII hashes as its UTF-16 unit): 0xaf63dc4c8601ec8c (Fowler/Noll/Vo test vector).
        Assert.Equal(0xaf63dc4c8601ec8cUL, HashedNgramTokenizer.Hash("a"));
        Assert.Equal(HashedNgramTokenizer.Hash("a"), HashedNgramTokenizer.Hash("A"));
    }
}
