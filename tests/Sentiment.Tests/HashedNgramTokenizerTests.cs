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

    [Fact]
    public void Hash_KnownVector_MatchesFnv1a64()
    {
        // FNV-1a 64 of "a" (lowercase ASCII hashes as its UTF-16 unit): 0xaf63dc4c8601ec8c (Fowler/Noll/Vo test vector).
        Assert.Equal(0xaf63dc4c8601ec8cUL, HashedNgramTokenizer.Hash("a"));
        Assert.Equal(HashedNgramTokenizer.Hash("a"), HashedNgramTokenizer.Hash("A"));
    }
}
