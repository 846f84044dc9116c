using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Sentiment;
using ReviewOrleans.Synthetic;

namespace ReviewOrleans.Platform.Tests;

/// <summary>Known reviews for a test, in a category of their own so tests sharing a cluster never see each other's.</summary>
public static class TestReviews
{
    private static readonly Lazy<ISentimentScorer> Scorer = new(() => SentimentScorerFactory.Load(DefaultSentimentModel.FindPath()));

    /// <summary>The committed default model, loaded once, for computing expected values independently of the cluster.</summary>
    public static ISentimentScorer Model => Scorer.Value;

    public static string NewCategory(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static List<ReviewMessage> Generate(string category, int count, int seed)
    {
        var generator = new SyntheticReviewGenerator(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var review = generator.Next();
            review.ProductCategory = category;
            return review;
        }).ToList();
    }

    public static PutReviewsRequest Request(IEnumerable<ReviewMessage> reviews)
    {
        var request = new PutReviewsRequest();
        request.Records.AddRange(reviews.Select(r => new ReviewRecord { Review = ReviewApi.ToApi(r) }));
        return request;
    }
}
