using System.Globalization;
using Onnx;
using ReviewOrleans.Sentiment.Onnx;

namespace ReviewOrleans.Sentiment.FastText;

/// <summary>
/// Parameters of the fastText-style classifier: an embedding table of <c>Buckets × Dim</c>, a linear layer
/// <c>Dim × 5</c> and a bias. The prediction for a text is softmax(Wᵀ · mean(E[features]) + b) (Joulin et al. 2017, §2).
/// The trainer updates these arrays in place; <see cref="ToOnnx"/> writes the same function as an ONNX graph.
/// </summary>
internal sealed class FastTextModel
{
    public const int Classes = SentimentResult.StarCount;
    public const string IdsInput = "ids";
    public const string BagsInput = "bags";
    public const string WeightsInput = "weights";
    public const string ProbabilitiesOutput = "probabilities";
    public const string BucketsMetadataKey = "reviewor.buckets";

    public FastTextModel(int buckets, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        Buckets = buckets;
        Dim = dim;
        Embedding = new float[(long)buckets * dim];
        Output = new float[dim * Classes];
        Bias = new float[Classes];
    }

    public int Buckets { get; }
    public int Dim { get; }

    /// <summary>Row-major [Buckets, Dim].</summary>
    public float[] Embedding { get; }

    /// <summary>Row-major [Dim, Classes] (class index k means k+1 stars).</summary>
    public float[] Output { get; }

    public float[] Bias { get; }

    /// <summary>Sum of the feature rows times <paramref name="weight"/> (1/n: their mean), in the order ONNX Runtime computes it.</summary>
    public void Hidden(ReadOnlySpan<long> features, float weight, Span<float> hidden)
    {
        hidden.Clear();
        foreach (var id in features)
        {
            var row = Embedding.AsSpan((int)(id * Dim), Dim);
            for (var d = 0; d < Dim; d++)
            {
                hidden[d] += row[d];
            }
        }
        for (var d = 0; d < Dim; d++)
        {
            hidden[d] *= weight;
        }
    }

    /// <summary>Logits Wᵀh + b for a hidden vector.</summary>
    public void Logits(ReadOnlySpan<float> hidden, Span<float> logits)
    {
        for (var k = 0; k < Classes; k++)
        {
            var z = 0f;
            for (var d = 0; d < Dim; d++)
            {
                z += hidden[d] * Output[(d * Classes) + k];
            }
            logits[k] = z + Bias[k];
        }
    }

    /// <summary>The model's forward pass in plain C#: the five class probabilities of one text's features.</summary>
    public void Predict(ReadOnlySpan<long> features, float weight, Span<float> probabilities)
    {
        Span<float> hidden = Dim <= 256 ? stackalloc float[Dim] : new float[Dim];
        Hidden(features, weight, hidden);
        Logits(hidden, probabilities);
        Softmax(probabilities);
    }

    /// <summary>
    /// One model whose logits are the mean of the given models' logits (a logit-averaging ensemble): the tables are
    /// concatenated along the embedding dimension and the output layers stacked and scaled by 1/K, so the result
    /// is still a single embedding bag, linear layer and softmax.
    /// </summary>
    public static FastTextModel Concatenate(IReadOnlyList<FastTextModel> models)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(models.Count, 1, nameof(models));
        var buckets = models[0].Buckets;
        if (models.Any(m => m.Buckets != buckets))
        {
            throw new ArgumentException("all models must have the same number of buckets", nameof(models));
        }
        var dim = models.Sum(m => m.Dim);
        var merged = new FastTextModel(buckets, dim);
        var scale = 1f / models.Count;
        var offset = 0;
        foreach (var m in models)
        {
            for (long b = 0; b < buckets; b++)
            {
                m.Embedding.AsSpan((int)(b * m.Dim), m.Dim).CopyTo(merged.Embedding.AsSpan((int)((b * dim) + offset), m.Dim));
            }
            for (var d = 0; d < m.Dim; d++)
            {
                for (var k = 0; k < Classes; k++)
                {
                    merged.Output[((offset + d) * Classes) + k] = m.Output[(d * Classes) + k] * scale;
                }
            }
            for (var k = 0; k < Classes; k++)
            {
                merged.Bias[k] += m.Bias[k] * scale;
            }
            offset += m.Dim;
        }
        return merged;
    }

    public static void Softmax(Span<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values)
        {
            max = MathF.Max(max, v);
        }
        var sum = 0f;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }
        for (var i = 0; i < values.Length; i++)
        {
            values[i] /= sum;
        }
    }

    /// <summary>
    /// Writes the model as ONNX, as an embedding bag over a flat list of features (the layout of PyTorch's
    /// <c>nn.EmbeddingBag</c>, so a batch of short and long texts wastes nothing on padding):
    /// Gather(E, ids) → ScatterND(reduction = add) into one row per text (<c>bags</c> [features, 1] holds each
    /// feature's row, in ScatterND's index layout) → × the text's weight → MatMul W → Add b → Softmax. The caller passes
    /// weight 1/n for a text of n features (the mean of fastText's bag; 1/√n for sqrt pooling) as <c>weights</c>
    /// [batch, 1]; weights × a zero row also makes the [batch, dim] zeros ScatterND adds into, so a text with no
    /// features gets softmax(b). Scaling the sum once per text rather than each row, and six nodes in all, keep ONNX
    /// Runtime's per-element and per-node overheads down (they dominate at this size; measured with ORT profiling).
    /// </summary>
    public byte[] ToOnnx(string producer = "reviewctl model train")
    {
        var g = new OnnxGraphWriter("fasttext_sentiment");
        var ids = g.Input(IdsInput, TensorProto.Types.DataType.Int64, "features");
        var bags = g.Input(BagsInput, TensorProto.Types.DataType.Int64, "features", 1);
        var weights = g.Input(WeightsInput, TensorProto.Types.DataType.Float, "batch", 1);
        var table = g.Initializer("embedding", Embedding, Buckets, Dim);
        var output = g.Initializer("output_weight", Output, Dim, Classes);
        var bias = g.Initializer("output_bias", Bias, Classes);
        var rows = g.Node("Gather", [table, ids], attributes: OnnxGraphWriter.IntAttribute("axis", 0));
        var zeros = g.Node("Mul", [weights, g.Initializer("zero_row", new float[Dim], 1, Dim)]);
        var sums = g.Node("ScatterND", [zeros, bags, rows], attributes: OnnxGraphWriter.StringAttribute("reduction", "add"));
        var hidden = g.Node("Mul", [sums, weights]);
        var logits = g.Node("Add", [g.Node("MatMul", [hidden, output]), bias]);
        g.Node("Softmax", [logits], ProbabilitiesOutput, OnnxGraphWriter.IntAttribute("axis", -1));
        g.Output(ProbabilitiesOutput, TensorProto.Types.DataType.Float, "batch", Classes);
        g.Metadata(BucketsMetadataKey, Buckets.ToString(CultureInfo.InvariantCulture));
        return g.ToBytes(producer);
    }
}
