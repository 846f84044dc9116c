using ReviewOrleans.Sentiment.FastText;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class FastTextTrainerTests
{
    private static readonly FastTextTrainingOptions Options = new() { Buckets = 2048, Dim = 4, MaxWords = 32, Epochs = 3, Seed = 5 };

    [Fact]
    public void Train_SameSeed_BitIdenticalWeights()
    {
        var corpus = TinyModel.Corpus(3, 300);
        var a = new FastTextTrainer(Options).Train(corpus);
        var b = new FastTextTrainer(Options).Train(corpus);
        Assert.Equal(a.Embedding, b.Embedding);
        Assert.Equal(a.Output, b.Output);
        Assert.Equal(a.Bias, b.Bias);
    }

    [Fact]
    public void Train_DifferentSeed_DifferentWeights()
    {
        var corpus = TinyModel.Corpus(3, 300);
        var a = new FastTextTrainer(Options).Train(corpus);
        var b = new FastTextTrainer(Options with { Seed = 6 }).Train(corpus);
        Assert.NotEqual(a.Embedding, b.Embedding);
    }

    [Fact]
    public void Train_OnlyBinaryPositiveLabels_RaisesFourPlusFiveWithoutPreferringEither()
    {
        // The partial-label loss −log(p4 + p5) has gradient p − q with q ∝ p on {4, 5}: it moves mass into the set
        // but never between 4 and 5. The output layer starts at zero, so p4 = p5 must hold throughout (float tolerance).
        var corpus = Enumerable.Range(0, 200).Select(i => LabeledText.FromBinary($"great item number {i % 7}", true, "synthetic", "c")).ToList();
        var trainer = new FastTextTrainer(Options with { FeatureDropout = 0 });
        var model = trainer.Train(corpus);
        var buffer = new long[trainer.Tokenizer.MaxFeatures];
        var n = trainer.Tokenizer.Tokenize("great item number 3", buffer);
        Span<float> p = stackalloc float[5];
        model.Predict(buffer.AsSpan(0, n), trainer.Tokenizer.Options.FeatureWeight(n), p);
        Assert.True(p[3] + p[4] > 0.9f, $"p4+p5 = {p[3] + p[4]}");
        Assert.Equal(p[3], p[4], 5);
    }

    [Fact]
    public void Manifest_SaveThenLoad_SameFields()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sentiment-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var path = TinyModel.Write(new FastTextModel(16, 2), new HashedNgramOptions(16, 8, NegationScope: 2, Pooling: "sqrt", Lexicon: "afinn-165"), dir,
                ["5 stars", "4 stars", "3 stars", "2 stars", "1 star"]);
            var loaded = SentimentModelManifest.Load(path);
            Assert.Equal(["5 stars", "4 stars", "3 stars", "2 stars", "1 star"], loaded.Id2Label);
            Assert.Equal([5, 4, 3, 2, 1], loaded.StarsByOutputIndex);
            Assert.Equal(new HashedNgramOptions(16, 8, NegationScope: 2, Pooling: "sqrt", Lexicon: "afinn-165"), HashedNgramOptions.FromJson(loaded.Tokenizer, path));
            Assert.Equal(8, loaded.MaxTokens);
            Assert.Equal(loaded.ToJson().ToJsonString(), SentimentModelManifest.Load(path).ToJson().ToJsonString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
