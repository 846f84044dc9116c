using System.Text.Json.Nodes;
using ReviewOrleans.Sentiment.FastText;

namespace ReviewOrleans.Sentiment.Training;

/// <summary>Hyper-parameters of <see cref="FastTextTrainer"/>; recorded in the manifest's <c>training</c> object.</summary>
internal sealed record FastTextTrainingOptions
{
    public int Buckets { get; init; } = 1 << 18;
    public int Dim { get; init; } = 4;
    public int MaxWords { get; init; } = 512;
    public int NegationScope { get; init; } = 3;
    public int Epochs { get; init; } = 10;
    public float LearningRate { get; init; } = 0.25f;
    public int Seed { get; init; } = 42;
    public string Pooling { get; init; } = "mean";

    /// <summary>Probability of dropping each feature of a training text for one step (word dropout, Iyyer et al. 2015 §3.2); 0 disables.</summary>
    public float FeatureDropout { get; init; } = 0.3f;

    /// <summary>Row-wise AdaGrad on the embedding table (one accumulator per bucket, as in DLRM's sparse optimiser) instead of plain SGD.</summary>
    public bool RowAdaGrad { get; init; }

    /// <summary>Lexicon whose words add valence-class features (<see cref="HashedNgramOptions.Lexicon"/>).</summary>
    public string Lexicon { get; init; } = "vader";

    public HashedNgramOptions TokenizerOptions => new(Buckets, MaxWords, Bigrams: true, NegationScope, Pooling, Lexicon);

    public JsonObject ToJson() => new()
    {
        ["algorithm"] = "fastText-style supervised: mean of hashed unigram+bigram (and lexicon valence-class) embeddings, linear, softmax; SGD with linear learning-rate decay",
        ["loss"] = "softmax cross-entropy; binary labels are partial labels: positive maximises log(p4+p5), negative log(p1+p2)",
        ["buckets"] = Buckets,
        ["dim"] = Dim,
        ["maxWords"] = MaxWords,
        ["negationScope"] = NegationScope,
        ["epochs"] = Epochs,
        ["learningRate"] = LearningRate,
        ["seed"] = Seed,
        ["pooling"] = Pooling,
        ["featureDropout"] = FeatureDropout,
        ["rowAdaGrad"] = RowAdaGrad,
        ["lexicon"] = Lexicon,
    };
}

/// <summary>
/// Trains <see cref="FastTextModel"/> the way fastText's supervised mode does (Joulin et al. 2017, §2;
/// <c>fasttext::FastText::supervised</c> and <c>Model::update</c>): per-example SGD, learning rate decaying
/// linearly to zero, the output layer starting at zero and the input table uniform in ±1/dim. Single-threaded
/// with a seeded shuffle, so the same data and seed give the same weights bit for bit (fastText's Hogwild threads
/// do not). The loss generalises softmax cross-entropy to partial labels: for a label allowing the star set S the
/// loss is −log Σ_{k∈S} p_k, whose gradient on the logits is p − q with q_k = p_k / Σ_S p for k ∈ S, 0 elsewhere.
/// </summary>
internal sealed class FastTextTrainer
{
    private readonly FastTextTrainingOptions _options;
    private readonly HashedNgramTokenizer _tokenizer;

    public FastTextTrainer(FastTextTrainingOptions options)
    {
        _options = options;
        _tokenizer = new HashedNgramTokenizer(options.TokenizerOptions);
    }

    public HashedNgramTokenizer Tokenizer => _tokenizer;

    /// <summary>Feature ids of every text, computed once (tokenizing dominates an epoch otherwise).</summary>
    public long[][] Featurize(IReadOnlyList<LabeledText> texts)
    {
        var buffer = new long[_tokenizer.MaxFeatures];
        var result = new long[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            var n = _tokenizer.Tokenize(texts[i].Text, buffer);
            result[i] = buffer.AsSpan(0, n).ToArray();
        }
        return result;
    }

    /// <summary>Trains on <paramref name="examples"/>; <paramref name="afterEpoch"/> sees the model after each epoch.</summary>
    public FastTextModel Train(IReadOnlyList<LabeledText> examples, Action<int, FastTextModel>? afterEpoch = null)
    {
        var features = Featurize(examples);
        var masks = examples.Select(e => e.TargetMask).ToArray();
        return Train(features, masks, afterEpoch);
    }

    public FastTextModel Train(long[][] features, int[] targetMasks, Action<int, FastTextModel>? afterEpoch = null)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(targetMasks.Length, features.Length, nameof(targetMasks));
        var o = _options;
        var model = new FastTextModel(o.Buckets, o.Dim);
        var random = new Random(o.Seed);
        var bound = 1f / o.Dim;
        var table = model.Embedding;
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = (float)((random.NextDouble() * 2) - 1) * bound;
        }
        var order = Enumerable.Range(0, features.Length).ToArray();
        var accumulators = o.RowAdaGrad ? new float[o.Buckets] : null;
        var kept = new long[features.Length == 0 ? 0 : features.Max(f => f.Length)];
        var dim = o.Dim;
        var hidden = new float[dim];
        var gradHidden = new float[dim];
        Span<float> p = stackalloc float[FastTextModel.Classes];
        long step = 0;
        var total = (long)o.Epochs * features.Length;
        for (var epoch = 0; epoch < o.Epochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var index in order)
            {
                var lr = o.LearningRate * (1f - ((float)step++ / total));
                ReadOnlySpan<long> ids = features[index];
                if (o.FeatureDropout > 0)
                {
                    var n = 0;
                    foreach (var id in ids)
                    {
                        if (random.NextSingle() >= o.FeatureDropout)
                        {
                            kept[n++] = id;
                        }
                    }
                    ids = kept.AsSpan(0, n);
                }
                if (ids.Length == 0)
                {
                    continue;
                }
                var weight = _tokenizer.Options.FeatureWeight(ids.Length);
                model.Hidden(ids, weight, hidden);
                model.Logits(hidden, p);
                FastTextModel.Softmax(p);
                var mask = targetMasks[index];
                var inTarget = 0f;
                for (var k = 0; k < FastTextModel.Classes; k++)
                {
                    if ((mask & (1 << k)) != 0)
                    {
                        inTarget += p[k];
                    }
                }
                inTarget = MathF.Max(inTarget, 1e-30f);
                for (var k = 0; k < FastTextModel.Classes; k++)
                {
                    // p - q: the gradient of −log Σ_S p on the logits.
                    p[k] = (mask & (1 << k)) != 0 ? p[k] - (p[k] / inTarget) : p[k];
                }
                Array.Clear(gradHidden);
                for (var d = 0; d < dim; d++)
                {
                    var h = hidden[d];
                    var g = 0f;
                    for (var k = 0; k < FastTextModel.Classes; k++)
                    {
                        var at = (d * FastTextModel.Classes) + k;
                        g += model.Output[at] * p[k];
                        model.Output[at] -= lr * h * p[k];
                    }
                    gradHidden[d] = g;
                }
                for (var k = 0; k < FastTextModel.Classes; k++)
                {
                    model.Bias[k] -= lr * p[k];
                }
                var scale = lr * weight;
                var squared = 0f;
                if (accumulators is not null)
                {
                    for (var d = 0; d < dim; d++)
                    {
                        squared += gradHidden[d] * gradHidden[d] * weight * weight;
                    }
                    squared /= dim;
                }
                foreach (var id in ids)
                {
                    var rowScale = scale;
                    if (accumulators is not null)
                    {
                        accumulators[id] += squared;
                        rowScale = lr * weight / (MathF.Sqrt(accumulators[id]) + 1e-6f);
                    }
                    var row = table.AsSpan((int)(id * dim), dim);
                    for (var d = 0; d < dim; d++)
                    {
                        row[d] -= rowScale * gradHidden[d];
                    }
                }
            }
            afterEpoch?.Invoke(epoch + 1, model);
        }
        return model;
    }
}
