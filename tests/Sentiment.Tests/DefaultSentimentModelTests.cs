namespace ReviewOrleans.Sentiment.Tests;

public sealed class DefaultSentimentModelTests
{
    [Fact]
    public void FindPath_FromTestOutputFolder_FindsCommittedModel()
    {
        var path = DefaultSentimentModel.FindPath();
        Assert.EndsWith(Path.Combine("models", "sentiment-fast", "model.json"), path);
    }

    [Fact]
    public void Load_CommittedModel_ScoresObviousReviewsTheRightWay()
    {
        using var scorer = DefaultSentimentModel.Load();
        Assert.Equal("sentiment-fast", scorer.Model.Id);
        var r = scorer.Score(["Absolutely love this dress, fits perfectly and the color is gorgeous!", "Terrible quality, it fell apart after one wash. Returned it."]);
        Assert.True(r[0].PredictedStars >= 4, r[0].ToString());
        Assert.True(r[1].PredictedStars <= 2, r[1].ToString());
        Assert.True(r[0].Score > 0 && r[1].Score < 0);
    }
}
