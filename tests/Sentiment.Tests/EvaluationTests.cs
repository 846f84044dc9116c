using ReviewOrleans.Sentiment.Evaluation;
using ReviewOrleans.Sentiment.Lexicon;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class EvaluationTests
{
    private static readonly SentimentModelInfo Info = new("m", "1", "test");

    private static SentimentResult OneHot(int stars)
    {
        var p = new float[5];
        p[stars - 1] = 1;
        return new SentimentResult(p, Info);
    }

    [Fact]
    public void Metrics_KnownPredictions_MatchHandComputedValues()
    {
        var m = new SentimentMetrics();
        // truth → prediction: 5→5, 5→4, 1→1, 1→2, 3→5
        foreach (var (t, p) in new[] { (5, 5), (5, 4), (1, 1), (1, 2), (3, 5) })
        {
            m.Add(LabeledText.FromStars("x", t, "d", "c"), OneHot(p));
        }
        Assert.Equal(0.4, m.Accuracy, 10);
        Assert.Equal((0 + 1 + 0 + 1 + 2) / 5.0, m.MaeArgmax, 10);
        // Binary: 3-star truth is excluded; 4 polar texts, all on the right side.
        Assert.Equal(4, m.BinaryCount);
        Assert.Equal(1.0, m.BinaryAccuracy, 10);
        // Per-class F1: 1★ 2·1/(2+1)=2/3, 2★ 0, 3★ 0, 4★ 0, 5★ 2·1/(2+2)=1/2 → mean over the 5 classes that occur.
        Assert.Equal(((2.0 / 3) + 0.5) / 5, m.MacroF1, 10);
        Assert.Equal(1, m.Confusion(1, 2));
    }

    [Fact]
    public void Lexicon_PolarAndNegatedTexts_ExpectedSigns()
    {
        Assert.True(AfinnLexiconScorer.Compound("I love this, it is excellent") > 0.25);
        Assert.True(AfinnLexiconScorer.Compound("terrible, it broke and I hate it") < -0.25);
        Assert.True(AfinnLexiconScorer.Compound("this is not good") < 0);
        Assert.True(AfinnLexiconScorer.Compound("this is n't good") < 0);
        Assert.Equal(0, AfinnLexiconScorer.Compound(""));
        Assert.Equal(3, AfinnLexiconScorer.StarsOf(0));
        Assert.True(AfinnLexiconScorer.LexiconSize > 3000);
    }

    [Fact]
    public void Lexicon_ScoreBatch_OneHotAtStars()
    {
        using var lexicon = new AfinnLexiconScorer();
        var r = lexicon.Score(["wonderful amazing perfect", "awful horrible"]);
        Assert.Equal(5, r[0].PredictedStars);
        Assert.Equal(1, r[1].PredictedStars);
        Assert.Equal(1f, r[0].Confidence);
    }
}
