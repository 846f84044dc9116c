using ReviewOrleans.Sentiment.Bert;
using ReviewOrleans.Sentiment.FastText;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class BertScorerTests : IDisposable
{
    private const int MaxTokens = 16;
    private static readonly string[] Words = ["the", "dress", "is", "great", "love", "it", "terrible", "fit", "size", "small", "color", "##s", "##ing"];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sentiment-tests", "bert-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _vocabulary = BertModelBuilder.Vocabulary(Words, 256);

    private string Build(string name, bool tokenTypes = true, bool tokenizerJson = false, string[]? id2label = null) =>
        BertModelBuilder.WriteModelDirectory(Path.Combine(_root, name), BertShape.Tiny(_vocabulary.Count, tokenTypes), _vocabulary, MaxTokens, seed: 11, tokenizerJson, id2label);

    [Fact]
    public void Score_TinyRandomBert_OneNormalisedResultPerText()
    {
        using var scorer = SentimentScorerFactory.Load(Build("plain"));
        var results = scorer.Score(["the dress is great", "terrible fit", "", "love it!"]);
        Assert.Equal(4, results.Length);
        Span<float> p = stackalloc float[5];
        foreach (var r in results)
        {
            r.CopyProbabilitiesTo(p);
            Assert.Equal(1f, p[0] + p[1] + p[2] + p[3] + p[4], 4);
            Assert.InRange(r.PredictedStars, 1, 5);
            Assert.Equal(SentimentModelInfo.BertKind, r.Model.Kind);
        }
    }

    [Fact]
    public void Encode_LongText_TruncatedToMaxTokensBetweenClsAndSep()
    {
        using var scorer = (BertScorer)SentimentScorerFactory.Load(Build("plain"));
        var ids = scorer.Encode(string.Join(' ', Enumerable.Repeat("the dress is great", 50)));
        Assert.Equal(MaxTokens, ids.Count);
        Assert.Equal(_vocabulary.IndexOf("[CLS]"), ids[0]);
        Assert.Equal(_vocabulary.IndexOf("[SEP]"), ids[^1]);
        Assert.Equal(_vocabulary.IndexOf("the"), ids[1]);
        // Words after a long run of spaces still count, and a word at the prefix's edge is not cut in two.
        var afterSpaces = scorer.Encode(new string(' ', 3_000) + "dress colors");
        Assert.Equal([_vocabulary.IndexOf("[CLS]"), _vocabulary.IndexOf("dress"), _vocabulary.IndexOf("color"), _vocabulary.IndexOf("##s"), _vocabulary.IndexOf("[SEP]")], afterSpaces);
        var straddling = scorer.Encode(new string(' ', (MaxTokens * 32) - 3) + "colors");
        Assert.Equal([_vocabulary.IndexOf("[CLS]"), _vocabulary.IndexOf("color"), _vocabulary.IndexOf("##s"), _vocabulary.IndexOf("[SEP]")], straddling);

        var shortIds = scorer.Encode("Dress COLORS");
        Assert.Equal([_vocabulary.IndexOf("[CLS]"), _vocabulary.IndexOf("dress"), _vocabulary.IndexOf("color"), _vocabulary.IndexOf("##s"), _vocabulary.IndexOf("[SEP]")], shortIds);
    }

    [Fact]
    public void Score_ShortTextPaddedBesideLongText_SameAsScoredAlone()
    {
        using var scorer = SentimentScorerFactory.Load(Build("plain"));
        var alone = scorer.Score(["love it"])[0];
        var padded = scorer.Score(["love it", string.Join(' ', Enumerable.Repeat("terrible small size", 20))])[0];
        // The −10000 additive mask leaves e^-10000 = 0 weight on padding; float rounding is the only difference.
        for (var s = 1; s <= 5; s++)
        {
            Assert.Equal(alone.Probability(s), padded.Probability(s), 5);
        }
    }

    [Fact]
    public void Score_BatchOverMax_SplitIntoRunsWithSameResults()
    {
        var path = Build("plain");
        using var small = SentimentScorerFactory.Load(path, new SentimentScorerOptions { MaxBatchSize = 2 });
        using var large = SentimentScorerFactory.Load(path);
        string[] texts = ["a", "the dress", "great great great", "terrible", "size small"];
        var a = small.Score(texts);
        var b = large.Score(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(b[i].ExpectedStars, a[i].ExpectedStars, 4);
        }
    }

    [Fact]
    public void Score_ReversedId2Label_ProbabilitiesFollowTheLabels()
    {
        using var identity = SentimentScorerFactory.Load(Build("identity"));
        using var reversed = SentimentScorerFactory.Load(Build("reversed", id2label: ["5 stars", "4 stars", "3 stars", "2 stars", "1 star"]));
        var a = identity.Score(["the color is great"])[0];
        var b = reversed.Score(["the color is great"])[0];
        for (var s = 1; s <= 5; s++)
        {
            Assert.Equal(a.Probability(s), b.Probability(6 - s), 6);
        }
    }

    [Fact]
    public void Load_TokenizerJson_SameScoresAsVocabTxt()
    {
        using var txt = SentimentScorerFactory.Load(Build("txt"));
        using var json = SentimentScorerFactory.Load(Build("json", tokenizerJson: true));
        var a = txt.Score(["Love the COLORS, terrible fit"])[0];
        var b = json.Score(["Love the COLORS, terrible fit"])[0];
        Assert.Equal(a.ExpectedStars, b.ExpectedStars, 6);
    }

    [Fact]
    public void Load_DistilBertStyleWithoutTokenTypes_Scores()
    {
        using var scorer = SentimentScorerFactory.Load(Build("distil", tokenTypes: false));
        Assert.Single(scorer.Score(["great"]));
    }

    [Fact]
    public void Score_OneMegabyteText_TruncatedNotRejected()
    {
        using var scorer = SentimentScorerFactory.Load(Build("plain"));
        var text = string.Concat(Enumerable.Repeat("the dress is great 😍 ", 60_000));
        Assert.True(text.Length > 1 << 20);
        Assert.Single(scorer.Score([text]));
    }

    [Fact]
    public void Load_BertManifestOverFastTextModel_WrongInputNames()
    {
        var path = Build("wrong");
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "model.onnx"), new FastTextModel(16, 2).ToOnnx());
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(path));
        Assert.Contains("wrong input names", ex.Message);
        Assert.Contains("input_ids", ex.Message);
    }

    [Fact]
    public void ParameterCount_DistilBertBase_About66Million()
    {
        // distilbert-base-uncased has 66.4 M parameters (Sanh et al. 2019, Table 3: 66 M); ours adds a 5-way head.
        Assert.InRange(BertShape.DistilBertBase().ParameterCount, 66_000_000, 67_000_000);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
