using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using ReviewOrleans.Sentiment.Onnx;

namespace ReviewOrleans.Sentiment.FastText;

/// <summary>
/// Scores with the fastText-style model: C# turns each text into hashed unigram/bigram ids (no strings are
/// created), the batch becomes one flat list of feature ids with their text rows plus a 1/n weight per text, and one ONNX
/// Runtime Run computes the embedding-bag mean, the linear layer and the softmax.
/// </summary>
internal sealed class FastTextScorer : OnnxSentimentScorer<FastTextScorer.BatchBuffers>
{
    private static readonly string[] InputNames = [FastTextModel.IdsInput, FastTextModel.BagsInput, FastTextModel.WeightsInput];
    /// <summary>Feature ids one batch may hold: 256 MiB per buffer set, far above the default 256 × 767 (256 words with bigrams and lexicon features).</summary>
    private const long MaxBufferedFeatures = 1L << 24;

    private readonly HashedNgramTokenizer _tokenizer;
    private readonly string[] _outputNames;

    public FastTextScorer(SentimentModelManifest manifest, SentimentScorerOptions options)
        : base(manifest, options, InputNames, [])
    {
        try
        {
            _tokenizer = new HashedNgramTokenizer(HashedNgramOptions.FromJson(manifest.Tokenizer, manifest.ManifestPath));
            // Each pooled buffer set holds MaxBatchSize × features-per-text ids twice over (8 bytes each).
            if ((long)options.MaxBatchSize * _tokenizer.MaxFeatures > MaxBufferedFeatures)
            {
                throw new ArgumentOutOfRangeException(nameof(options), options.MaxBatchSize,
                    $"MaxBatchSize {options.MaxBatchSize} × {_tokenizer.MaxFeatures} features per text exceeds {MaxBufferedFeatures} feature ids per batch; use a smaller MaxBatchSize");
            }
            _outputNames = [manifest.OutputName];
            foreach (var (name, rank) in new[] { (FastTextModel.IdsInput, 1), (FastTextModel.BagsInput, 2), (FastTextModel.WeightsInput, 2) })
            {
                var actual = Session.InputMetadata[name].Dimensions.Length;
                if (actual != rank)
                {
                    throw new SentimentModelException(
                        $"{manifest.ModelPath}: input '{name}' has rank {actual}; this scorer feeds ids [features], bags [features, 1] and weights [batch, 1] " +
                        "(re-export the model with this version's reviewctl model train)");
                }
            }
            if (Session.ModelMetadata.CustomMetadataMap.TryGetValue(FastTextModel.BucketsMetadataKey, out var rows)
                && rows != _tokenizer.Options.Buckets.ToString(CultureInfo.InvariantCulture))
            {
                throw new SentimentModelException(
                    $"{manifest.ManifestPath}: field 'tokenizer.buckets' is {_tokenizer.Options.Buckets} but the model's embedding table has {rows} rows");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    internal HashedNgramTokenizer Tokenizer => _tokenizer;

    protected override BatchBuffers CreateBuffers() => new(MaxBatchSize, _tokenizer.MaxFeatures);

    protected override ReadOnlySpan<float> RunBatch(IReadOnlyList<string> texts, int start, int count, BatchBuffers buffers)
    {
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            var n = _tokenizer.Tokenize(TextAt(texts, start + i), buffers.Ids.AsSpan(total, _tokenizer.MaxFeatures));
            buffers.Weights[i] = _tokenizer.Options.FeatureWeight(n);
            buffers.Bags.AsSpan(total, n).Fill(i);
            total += n;
        }
        var features = new long[] { total };
        using var ids = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Ids.AsMemory(0, total), features);
        using var bags = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Bags.AsMemory(0, total), [total, 1]);
        using var weights = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Weights.AsMemory(0, count), [count, 1]);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            buffers.Output.AsMemory(0, count * SentimentResult.StarCount), [count, SentimentResult.StarCount]);
        buffers.Inputs[0] = ids;
        buffers.Inputs[1] = bags;
        buffers.Inputs[2] = weights;
        buffers.Outputs[0] = output;
        Session.Run(buffers.RunOptions, InputNames, buffers.Inputs, _outputNames, buffers.Outputs);
        return buffers.Output.AsSpan(0, count * SentimentResult.StarCount);
    }

    /// <summary>Arrays sized for the largest batch, reused across calls by one caller at a time.</summary>
    internal sealed class BatchBuffers(int maxBatch, int maxFeatures) : IDisposable
    {
        public long[] Ids { get; } = new long[maxBatch * maxFeatures];
        public long[] Bags { get; } = new long[maxBatch * maxFeatures];
        public float[] Weights { get; } = new float[maxBatch];
        public float[] Output { get; } = new float[maxBatch * SentimentResult.StarCount];
        public OrtValue[] Inputs { get; } = new OrtValue[3];
        public OrtValue[] Outputs { get; } = new OrtValue[1];
        public RunOptions RunOptions { get; } = new();

        public void Dispose() => RunOptions.Dispose();
    }
}
