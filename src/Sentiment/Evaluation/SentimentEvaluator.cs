using System.Text.Json.Nodes;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Evaluation;

/// <summary>Metrics of one scorer on one dataset: overall and per category (domain, department, source).</summary>
internal sealed class DatasetEvaluation(string dataset, string scorer)
{
    public string Dataset { get; } = dataset;
    public string Scorer { get; } = scorer;
    public SentimentMetrics Overall { get; } = new();
    public SortedDictionary<string, SentimentMetrics> ByCategory { get; } = new(StringComparer.Ordinal);

    /// <summary>Unweighted mean of the per-category binary accuracies (the fdu-mtl headline figure).</summary>
    public double CategoryAverageBinaryAccuracy
    {
        get
        {
            var values = ByCategory.Values.Where(m => m.BinaryCount > 0).Select(m => m.BinaryAccuracy).ToList();
            return values.Count == 0 ? double.NaN : values.Average();
        }
    }

    public JsonObject ToJson()
    {
        var categories = new JsonObject();
        foreach (var (name, m) in ByCategory)
        {
            categories[name] = m.ToJson();
        }
        var json = new JsonObject { ["dataset"] = Dataset, ["scorer"] = Scorer, ["overall"] = Overall.ToJson() };
        if (ByCategory.Count > 1 && !double.IsNaN(CategoryAverageBinaryAccuracy))
        {
            json["categoryAverageBinaryAccuracy"] = Math.Round(CategoryAverageBinaryAccuracy, 4);
        }
        json["categories"] = categories;
        return json;
    }
}

/// <summary>Scores labelled texts in batches and accumulates <see cref="SentimentMetrics"/>.</summary>
internal static class SentimentEvaluator
{
    public static DatasetEvaluation Evaluate(ISentimentScorer scorer, string dataset, IReadOnlyList<LabeledText> texts, int batchSize = 256)
    {
        var evaluation = new DatasetEvaluation(dataset, scorer.Model.Id);
        var batch = new List<string>(batchSize);
        var results = new SentimentResult[batchSize];
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, texts.Count - start);
            batch.Clear();
            for (var i = 0; i < count; i++)
            {
                batch.Add(texts[start + i].Text);
            }
            scorer.Score(batch, results);
            for (var i = 0; i < count; i++)
            {
                var truth = texts[start + i];
                evaluation.Overall.Add(truth, results[i]);
                if (!evaluation.ByCategory.TryGetValue(truth.Category, out var m))
                {
                    evaluation.ByCategory[truth.Category] = m = new SentimentMetrics();
                }
                m.Add(truth, results[i]);
            }
        }
        return evaluation;
    }
}
