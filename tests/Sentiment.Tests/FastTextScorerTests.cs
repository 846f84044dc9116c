using ReviewOrleans.Sentiment.FastText;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class FastTextScorerTests : IClassFixture<FastTextScorerTests.Fixture>
{
    private static readonly string[] Texts =
    [
        "great love perfect dress",
        "awful broke terrible, returned it",
        "",
        "the size and the color",
        "I LOVE this 😍 but it broke!!!",
        string.Join(' ', Enumerable.Repeat("comfortable fabric", 200)),
        "not great",
    ];

    private readonly Fixture _fixture;

    public FastTextScorerTests(Fixture fixture) => _fixture = fixture;

    [Fact]
    public void Score_OnnxRuntime_EqualsTrainerForwardPassWithin1e5()
    {
        using var scorer = SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath);
        var results = scorer.Score(Texts);
        var tokenizer = _fixture.Tiny.Tokenizer;
        var buffer = new long[tokenizer.MaxFeatures];
        Span<float> expected = stackalloc float[5];
        Span<float> actual = stackalloc float[5];
        for (var i = 0; i < Texts.Length; i++)
        {
            var n = tokenizer.Tokenize(Texts[i], buffer);
            _fixture.Tiny.Model.Predict(buffer.AsSpan(0, n), tokenizer.Options.FeatureWeight(n), expected);
            results[i].CopyProbabilitiesTo(actual);
            for (var k = 0; k < 5; k++)
            {
                Assert.InRange(actual[k], expected[k] - 1e-5f, expected[k] + 1e-5f);
            }
        }
    }

    [Fact]
    public void Score_TinyTrainedModel_SeparatesSyntheticSentiment()
    {
        using var scorer = SentimentScorerFactory.Load(_fixture.Tiny.Directory);
        var test = _fixture.Tiny.Test.Where(t => t.Positive is not null).ToList();
        var results = scorer.Score(test.Select(t => t.Text).ToList());
        var correct = test.Where((t, i) => results[i].IsPositive == t.Positive).Count();
        // Seed 7 synthetic corpus: sentiment words decide the label, so a working trainer is near-perfect; 90% leaves room.
        Assert.True(correct >= 0.9 * test.Count, $"binary accuracy {correct}/{test.Count}");
        Assert.True(results[0].Model.Kind == SentimentModelInfo.FastTextKind && results[0].Model.Id == "tiny");
    }

    [Fact]
    public void Score_BatchLargerThanMax_SplitsAndMatchesSingleScoring()
    {
        using var small = SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath, new SentimentScorerOptions { MaxBatchSize = 3 });
        using var large = SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath);
        var split = small.Score(Texts);
        var whole = large.Score(Texts);
        var single = Texts.Select(t => large.Score([t])[0]).ToArray();
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(whole[i].ExpectedStars, split[i].ExpectedStars, 5);
            Assert.Equal(whole[i].ExpectedStars, single[i].ExpectedStars, 5);
        }
    }

    [Fact]
    public void Score_ResultsSpanTooShort_ThrowsArgumentException()
    {
        using var scorer = SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath);
        var ex = Assert.Throws<ArgumentException>(() => scorer.Score(Texts, new SentimentResult[Texts.Length - 1]));
        Assert.Equal("results", ex.ParamName);
    }

    [Fact]
    public void Score_NullText_ThrowsArgumentException()
    {
        using var scorer = SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath);
        Assert.Throws<ArgumentException>(() => scorer.Score(["fine", null!]));
    }

    [Fact]
    public void Score_ConcurrentCallers_SameResultsAsSequential()
    {
        using var scorer = SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath);
        var expected = scorer.Score(Texts);
        var failures = 0;
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var r = scorer.Score(Texts);
            for (var i = 0; i < r.Length; i++)
            {
                if (r[i].ExpectedStars != expected[i].ExpectedStars)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Score_EmptyText_ReturnsBiasOnlyDistribution()
    {
        using var scorer = SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath);
        var result = scorer.Score([""])[0];
        Span<float> expected = stackalloc float[5];
        _fixture.Tiny.Model.Predict([], 0f, expected);
        Assert.Equal(expected[4], result.Probability(5), 5);
        Span<float> p = stackalloc float[5];
        result.CopyProbabilitiesTo(p);
        Assert.Equal(1f, p[0] + p[1] + p[2] + p[3] + p[4], 4);
    }

    [Fact]
    public void Concatenate_TwoModels_LogitsAreTheMean()
    {
        var a = _fixture.Tiny.Model;
        var b = new FastText.FastTextModel(a.Buckets, a.Dim);
        for (var i = 0; i < b.Embedding.Length; i++)
        {
            b.Embedding[i] = a.Embedding[(i * 7) % a.Embedding.Length];
        }
        Array.Copy(a.Output, b.Output, a.Output.Length);
        b.Bias[2] = 0.5f;
        var merged = FastTextModel.Concatenate([a, b]);
        var tokenizer = _fixture.Tiny.Tokenizer;
        var buffer = new long[tokenizer.MaxFeatures];
        var n = tokenizer.Tokenize("love the color but it broke", buffer);
        var w = tokenizer.Options.FeatureWeight(n);
        Span<float> ha = stackalloc float[a.Dim], hb = stackalloc float[b.Dim], hm = stackalloc float[merged.Dim];
        Span<float> la = stackalloc float[5], lb = stackalloc float[5], lm = stackalloc float[5];
        a.Hidden(buffer.AsSpan(0, n), w, ha);
        b.Hidden(buffer.AsSpan(0, n), w, hb);
        merged.Hidden(buffer.AsSpan(0, n), w, hm);
        a.Logits(ha, la);
        b.Logits(hb, lb);
        merged.Logits(hm, lm);
        for (var k = 0; k < 5; k++)
        {
            Assert.Equal((la[k] + lb[k]) / 2, lm[k], 5);
        }
    }

    [Fact]
    public async Task Dispose_WhileScoring_RunningCallFinishesAndLaterCallsThrow()
    {
        // Disposing released the session under a running call; the call must finish on it, then release it.
        var scorer = (FastTextScorer)SentimentScorerFactory.Load(_fixture.Tiny.ManifestPath);
        var expected = scorer.Score(Texts);
        // The call blocks on its first text until Dispose has returned, so the overlap does not depend on timing;
        // more texts than one batch make the call run the session again after Dispose.
        var texts = new GatedTexts(Enumerable.Range(0, 3 * scorer.MaxBatchSize).Select(i => Texts[i % Texts.Length]).ToArray());
        var running = Task.Run(() => scorer.Score(texts));
        Assert.True(texts.Entered.Wait(TimeSpan.FromSeconds(30)), "the scoring call did not start");
        Assert.Equal(1, scorer.ActiveCalls);
        scorer.Dispose();
        texts.Release.Set();

        var results = await running;
        Assert.Equal(expected.Select(r => r.PredictedStars), results.Take(Texts.Length).Select(r => r.PredictedStars));
        Assert.Equal(0, scorer.ActiveCalls);
        Assert.Throws<ObjectDisposedException>(() => scorer.Score(Texts));
        Assert.Throws<ObjectDisposedException>(() => scorer.Score([]));
        scorer.Dispose();
    }

    /// <summary>Texts whose first read signals <see cref="Entered"/> and then waits for <see cref="Release"/>.</summary>
    private sealed class GatedTexts(string[] texts) : IReadOnlyList<string>
    {
        private int _reads;

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public int Count => texts.Length;

        public string this[int index]
        {
            get
            {
                if (Interlocked.Increment(ref _reads) == 1)
                {
                    Entered.Set();
                    Assert.True(Release.Wait(TimeSpan.FromSeconds(30)), "the test did not release the call");
                }
                return texts[index];
            }
        }

        public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)texts).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => texts.GetEnumerator();
    }

    public sealed class Fixture : IDisposable
    {
        internal TinyModel Tiny { get; } = new();

        public void Dispose() => Tiny.Dispose();
    }
}
