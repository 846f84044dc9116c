using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Onnx;
using ReviewOrleans.Sentiment.Onnx;

namespace ReviewOrleans.Sentiment.Bert;

/// <summary>Sizes of a BERT-style encoder with a 5-class head.</summary>
/// <param name="VocabSize">WordPiece vocabulary size (rows of the word embedding table).</param>
/// <param name="Hidden">Hidden size; must divide by <paramref name="Heads"/>.</param>
/// <param name="Layers">Transformer encoder layers.</param>
/// <param name="Heads">Attention heads per layer.</param>
/// <param name="Intermediate">Width of the feed-forward layer (4 × hidden in BERT and DistilBERT).</param>
/// <param name="MaxPositions">Rows of the position embedding table: the longest sequence the model accepts.</param>
/// <param name="TokenTypes">Whether the model takes token_type_ids (BERT does; DistilBERT does not).</param>
internal sealed record BertShape(int VocabSize, int Hidden, int Layers, int Heads, int Intermediate, int MaxPositions, bool TokenTypes)
{
    /// <summary>The size of distilbert-base-uncased (Sanh et al. 2019): 6 layers, hidden 768, 12 heads, 66 M parameters.</summary>
    public static BertShape DistilBertBase(int vocabSize = 30522) => new(vocabSize, 768, 6, 12, 3072, 512, TokenTypes: false);

    /// <summary>A test-sized model: 2 layers, hidden 32, 4 heads.</summary>
    public static BertShape Tiny(int vocabSize, bool tokenTypes = true) => new(vocabSize, 32, 2, 4, 64, 128, tokenTypes);

    public long ParameterCount =>
        ((long)VocabSize + MaxPositions + (TokenTypes ? 2 : 0)) * Hidden + (2 * Hidden)
        + (Layers * ((4L * ((Hidden * Hidden) + Hidden)) + (2L * Hidden * Intermediate) + Intermediate + Hidden + (4L * Hidden)))
        + (Hidden * Hidden) + Hidden + (Hidden * 5) + 5;
}

/// <summary>
/// Writes a BERT-shaped sequence classifier as ONNX with seeded random weights (normal, σ = 0.02, as BERT
/// initialises; LayerNorm γ = 1, β = 0). It proves the BERT input path and measures what a transformer of a given
/// size costs; it predicts nothing meaningful. The graph follows Hugging Face's <c>DistilBertForSequenceClassification</c>
/// (Devlin et al. 2019 §3; Sanh et al. 2019): word + position (+ token type) embeddings, LayerNorm, post-LN
/// encoder layers (multi-head self-attention with an additive −10000 mask, GELU feed-forward), the first token's
/// vector through pre_classifier + ReLU, then a 5-way classifier producing <c>logits</c>.
/// </summary>
internal static class BertModelBuilder
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string TokenTypeIds = "token_type_ids";
    public const string Logits = "logits";
    private const float LayerNormEpsilon = 1e-12f;

    public static byte[] BuildOnnx(BertShape shape, int seed)
    {
        if (shape.Hidden % shape.Heads != 0)
        {
            throw new ArgumentException($"hidden size {shape.Hidden} is not a multiple of {shape.Heads} heads", nameof(shape));
        }
        var random = new Random(seed);
        var g = new OnnxGraphWriter("bert_sentiment");
        var h = shape.Hidden;
        var headDim = h / shape.Heads;
        var ids = g.Input(InputIds, TensorProto.Types.DataType.Int64, "batch", "sequence");
        var mask = g.Input(AttentionMask, TensorProto.Types.DataType.Int64, "batch", "sequence");
        var types = shape.TokenTypes ? g.Input(TokenTypeIds, TensorProto.Types.DataType.Int64, "batch", "sequence") : null;

        var one = g.Initializer("one", [1f]);
        // Initializers without dims are scalars: Range takes scalars, and Gather with a scalar index drops the axis.
        var zeroL = g.Initializer("zero_i64", [0L]);
        var oneL = g.Initializer("one_i64", [1L]);
        var indexOne = g.Initializer("index_1", [1L]);

        // Embeddings: positions 0..sequence-1 come from Range over the input's second dimension.
        var words = g.Node("Gather", [g.Initializer("word_embeddings", Normal(random, (long)shape.VocabSize * h), shape.VocabSize, h), ids]);
        var sequenceLength = g.Node("Gather", [g.Node("Shape", [ids]), indexOne], attributes: OnnxGraphWriter.IntAttribute("axis", 0));
        var positionIds = g.Node("Range", [zeroL, sequenceLength, oneL]);
        var positions = g.Node("Gather", [g.Initializer("position_embeddings", Normal(random, (long)shape.MaxPositions * h), shape.MaxPositions, h), positionIds]);
        var x = g.Node("Add", [words, positions]);
        if (types is not null)
        {
            x = g.Node("Add", [x, g.Node("Gather", [g.Initializer("token_type_embeddings", Normal(random, 2L * h), 2, h), types])]);
        }
        x = LayerNorm(g, x, h, "embeddings");

        // Additive attention mask [batch, 1, 1, sequence]: 0 where attended, −10000 on padding.
        var maskFloat = g.Node("Cast", [mask], attributes: OnnxGraphWriter.IntAttribute("to", (long)TensorProto.Types.DataType.Float));
        var mask4 = g.Node("Unsqueeze", [maskFloat, g.Initializer("axes_1_2", [1L, 2L], 2)]);
        var maskBias = g.Node("Mul", [g.Node("Sub", [one, mask4]), g.Initializer("mask_value", [-10000f])]);

        var splitHeads = g.Initializer("split_heads_shape", [0L, 0L, shape.Heads, headDim], 4);
        var mergeHeads = g.Initializer("merge_heads_shape", [0L, 0L, h], 3);
        var scale = g.Initializer("attention_scale", [1f / MathF.Sqrt(headDim)]);
        var sqrt2 = g.Initializer("sqrt2", [MathF.Sqrt(2f)]);
        var half = g.Initializer("half", [0.5f]);
        for (var layer = 0; layer < shape.Layers; layer++)
        {
            var p = $"layer{layer}";
            var q = g.Node("Transpose", [g.Node("Reshape", [Dense(g, random, x, h, h, $"{p}.q"), splitHeads])], attributes: OnnxGraphWriter.IntsAttribute("perm", 0, 2, 1, 3));
            var k = g.Node("Transpose", [g.Node("Reshape", [Dense(g, random, x, h, h, $"{p}.k"), splitHeads])], attributes: OnnxGraphWriter.IntsAttribute("perm", 0, 2, 3, 1));
            var v = g.Node("Transpose", [g.Node("Reshape", [Dense(g, random, x, h, h, $"{p}.v"), splitHeads])], attributes: OnnxGraphWriter.IntsAttribute("perm", 0, 2, 1, 3));
            var scores = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [q, k]), scale]), maskBias]);
            var probabilities = g.Node("Softmax", [scores], attributes: OnnxGraphWriter.IntAttribute("axis", -1));
            var context = g.Node("Reshape", [g.Node("Transpose", [g.Node("MatMul", [probabilities, v])], attributes: OnnxGraphWriter.IntsAttribute("perm", 0, 2, 1, 3)), mergeHeads]);
            var attention = Dense(g, random, context, h, h, $"{p}.attention_output");
            var x1 = LayerNorm(g, g.Node("Add", [attention, x]), h, $"{p}.attention");
            var inner = Dense(g, random, x1, h, shape.Intermediate, $"{p}.intermediate");
            // GELU(x) = x · Φ(x) = 0.5 · x · (1 + erf(x / √2)) (Hendrycks and Gimpel 2016), BERT's exact form.
            var gelu = g.Node("Mul", [g.Node("Mul", [inner, g.Node("Add", [g.Node("Erf", [g.Node("Div", [inner, sqrt2])]), one])]), half]);
            var output = Dense(g, random, gelu, shape.Intermediate, h, $"{p}.output");
            x = LayerNorm(g, g.Node("Add", [output, x1]), h, $"{p}.output");
        }

        var first = g.Node("Gather", [x, zeroL], attributes: OnnxGraphWriter.IntAttribute("axis", 1));
        var pre = g.Node("Relu", [Dense(g, random, first, h, h, "pre_classifier")]);
        var logitsRaw = Dense(g, random, pre, h, 5, "classifier");
        g.Node("Identity", [logitsRaw], Logits);
        g.Output(Logits, TensorProto.Types.DataType.Float, "batch", 5);
        g.Metadata("reviewor.description", $"random-weight BERT-shaped classifier, seed {seed}: {shape}");
        return g.ToBytes("ReviewOrleans BertModelBuilder");
    }

    /// <summary>
    /// Writes model.onnx, a WordPiece vocabulary (vocab.txt, or tokenizer.json in the Hugging Face format when
    /// <paramref name="asTokenizerJson"/>) and model.json into <paramref name="directory"/>; returns the manifest's path.
    /// </summary>
    public static string WriteModelDirectory(string directory, BertShape shape, IReadOnlyList<string> vocabulary, int maxTokens, int seed,
        bool asTokenizerJson = false, string[]? id2label = null)
    {
        if (vocabulary.Count != shape.VocabSize)
        {
            throw new ArgumentException($"vocabulary has {vocabulary.Count} tokens but the shape says {shape.VocabSize}", nameof(vocabulary));
        }
        if (maxTokens > shape.MaxPositions)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, $"exceeds the model's {shape.MaxPositions} positions");
        }
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "model.onnx"), BuildOnnx(shape, seed));
        JsonObject tokenizer;
        if (asTokenizerJson)
        {
            var vocab = new JsonObject();
            for (var i = 0; i < vocabulary.Count; i++)
            {
                vocab[vocabulary[i]] = i;
            }
            var json = new JsonObject
            {
                ["version"] = "1.0",
                ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["lowercase"] = true },
                ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
                ["model"] = new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["vocab"] = vocab },
            };
            File.WriteAllText(Path.Combine(directory, "tokenizer.json"), json.ToJsonString());
            tokenizer = new JsonObject { ["type"] = BertTokenizerSettings.TokenizerJsonType, ["file"] = "tokenizer.json" };
        }
        else
        {
            File.WriteAllLines(Path.Combine(directory, "vocab.txt"), vocabulary, new UTF8Encoding(false));
            tokenizer = new JsonObject { ["type"] = BertTokenizerSettings.VocabTxtType, ["file"] = "vocab.txt", ["lowercase"] = true };
        }
        var manifest = new SentimentModelManifest
        {
            Id = $"bert-random-{shape.Layers}x{shape.Hidden}",
            Version = "random-seed-" + seed.ToString(CultureInfo.InvariantCulture),
            Kind = SentimentModelInfo.BertKind,
            ModelFile = "model.onnx",
            StarsByOutputIndex = [1, 2, 3, 4, 5],
            Id2Label = id2label ?? SentimentModelManifest.DefaultId2Label(),
            OutputName = Logits,
            OutputIsLogits = true,
            MaxTokens = maxTokens,
            Tokenizer = tokenizer,
            Training = new JsonObject { ["note"] = "random weights from BertModelBuilder; for shape and cost checks only, not for predictions" },
        };
        var path = Path.Combine(directory, "model.json");
        manifest.Save(path);
        return path;
    }

    /// <summary>
    /// A WordPiece vocabulary of exactly <paramref name="size"/> tokens: the special tokens, single characters
    /// and their ## continuations (so any ASCII text tokenizes without [UNK]), then <paramref name="words"/> in order,
    /// then filler ## pieces up to the size.
    /// </summary>
    public static List<string> Vocabulary(IEnumerable<string> words, int size)
    {
        var tokens = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        var seen = new HashSet<string>(tokens, StringComparer.Ordinal);
        void Add(string t)
        {
            // A token is one line of vocab.txt: whitespace inside it would split it into two entries.
            if (tokens.Count < size && t.Length > 0 && !t.Any(char.IsWhiteSpace) && seen.Add(t))
            {
                tokens.Add(t);
            }
        }
        for (var c = '!'; c <= '~'; c++)
        {
            if (!char.IsUpper(c))
            {
                Add(c.ToString());
                Add("##" + c);
            }
        }
        foreach (var w in words)
        {
            Add(w);
        }
        for (var i = 0; tokens.Count < size; i++)
        {
            Add("##filler" + i.ToString(CultureInfo.InvariantCulture));
        }
        return tokens;
    }

    private static string Dense(OnnxGraphWriter g, Random random, string input, int inputs, int outputs, string name)
    {
        var weight = g.Initializer($"{name}.weight", Normal(random, (long)inputs * outputs), inputs, outputs);
        var bias = g.Initializer($"{name}.bias", new float[outputs], outputs);
        return g.Node("Add", [g.Node("MatMul", [input, weight]), bias]);
    }

    private static string LayerNorm(OnnxGraphWriter g, string input, int hidden, string name)
    {
        var gamma = new float[hidden];
        Array.Fill(gamma, 1f);
        return g.Node("LayerNormalization",
            [input, g.Initializer($"{name}.layernorm.gamma", gamma, hidden), g.Initializer($"{name}.layernorm.beta", new float[hidden], hidden)],
            attributes: [OnnxGraphWriter.IntAttribute("axis", -1), OnnxGraphWriter.FloatAttribute("epsilon", LayerNormEpsilon)]);
    }

    private static float[] Normal(Random random, long count)
    {
        var values = new float[count];
        for (long i = 0; i < count; i += 2)
        {
            // Box–Muller: two independent N(0, 1) draws per pair of uniforms.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var r = Math.Sqrt(-2.0 * Math.Log(u1)) * 0.02;
            values[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < count)
            {
                values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
            }
        }
        return values;
    }
}
