namespace ReviewOrleans.Sentiment.Tests;

public sealed class SentimentResultTests
{
    private static readonly SentimentModelInfo Info = new("m", "1", SentimentModelInfo.FastTextKind);

    [Fact]
    public void DerivedFigures_KnownDistribution_MatchHandComputation()
    {
        var r = new SentimentResult([0.1f, 0.1f, 0.2f, 0.2f, 0.4f], Info);
        Assert.Equal(5, r.PredictedStars);
        Assert.Equal(0.1f + 0.2f + 0.6f + 0.8f + 2.0f, r.ExpectedStars, 5);
        Assert.Equal((r.ExpectedStars - 3) / 2, r.Score, 6);
        Assert.Equal(0.4f, r.Confidence);
        Assert.True(r.IsPositive);
        Assert.Same(Info, r.Model);
    }

    [Fact]
    public void Score_CertainOneAndFiveStars_MinusOneAndOne()
    {
        Assert.Equal(-1f, new SentimentResult([1f, 0, 0, 0, 0], Info).Score);
        Assert.Equal(1f, new SentimentResult([0, 0, 0, 0, 1f], Info).Score);
    }

    [Fact]
    public void Probability_OutOfRangeStars_Throws()
    {
        var r = new SentimentResult([0.2f, 0.2f, 0.2f, 0.2f, 0.2f], Info);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Probability(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Probability(6));
        Assert.Equal(1, r.PredictedStars); // ties go to the lower rating
    }

    [Fact]
    public void Constructor_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new SentimentResult([0.5f, 0.5f], Info));
    }
}
