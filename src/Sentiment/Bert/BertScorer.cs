using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using ReviewOrleans.Sentiment.Onnx;

namespace ReviewOrleans.Sentiment.Bert;

/// <summary>
/// Scores with a BERT-style sequence classifier exported from Hugging Face (or built by <see cref="BertModelBuilder"/>):
/// WordPiece ids with [CLS] … [SEP], truncated to the manifest's maxTokens (default 64), padded with [PAD] to the
/// longest text of the batch, an attention mask, and token_type_ids of zeros when the model takes them.
/// </summary>
internal sealed class BertScorer : OnnxSentimentScorer<BertScorer.BatchBuffers>
{
    private readonly BertTokenizer _tokenizer;
    private readonly int _maxTokens;
    private readonly bool _tokenTypes;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    public BertScorer(SentimentModelManifest manifest, SentimentScorerOptions options)
        : base(manifest, options, [BertModelBuilder.InputIds, BertModelBuilder.AttentionMask], [BertModelBuilder.TokenTypeIds])
    {
        try
        {
            if (manifest.MaxTokens < 3)
            {
                throw new SentimentModelException($"{manifest.ManifestPath}: field 'maxTokens' is {manifest.MaxTokens}; a bert model needs room for [CLS], a token and [SEP]");
            }
            _tokenizer = BertTokenizerSettings.Create(manifest);
            _maxTokens = manifest.MaxTokens;
            _tokenTypes = Session.InputMetadata.ContainsKey(BertModelBuilder.TokenTypeIds);
            _inputNames = _tokenTypes
                ? [BertModelBuilder.InputIds, BertModelBuilder.AttentionMask, BertModelBuilder.TokenTypeIds]
                : [BertModelBuilder.InputIds, BertModelBuilder.AttentionMask];
            _outputNames = [manifest.OutputName];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The WordPiece ids the model sees for <paramref name="text"/>: [CLS], at most maxTokens − 2 pieces, [SEP].</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        // Only a prefix can contribute maxTokens pieces, and encoding just a prefix bounds the cost of a 1 MB text.
        // The prefix ends at a word boundary, so its words split into the same pieces as in the whole text, and it
        // doubles until it yields enough pieces (long runs of spaces or markup can fill any fixed length).
        var pieces = (IReadOnlyList<int>)[];
        for (var length = Math.Min(text.Length, _maxTokens * 32); ; length = Math.Min(text.Length, 2 * length))
        {
            // To the end of the word, but at most 101 characters on: a longer word is one [UNK] whole or cut
            // (WordPiece's 100-character limit), and text without spaces (CJK, URLs) keeps its cost bound.
            var wordLimit = Math.Min(text.Length, length + 101);
            while (length < wordLimit && text[length] is not (' ' or '\t' or '\n' or '\r'))
            {
                length++;
            }
            pieces = _tokenizer.EncodeToIds(length == text.Length ? text : text[..length], _maxTokens - 2, addSpecialTokens: false, out _, out _);
            if (pieces.Count >= _maxTokens - 2 || length == text.Length)
            {
                break;
            }
        }
        var ids = new List<int>(pieces.Count + 2) { _tokenizer.ClassificationTokenId };
        ids.AddRange(pieces);
        ids.Add(_tokenizer.SeparatorTokenId);
        return ids;
    }

    protected override BatchBuffers CreateBuffers() => new(MaxBatchSize, Manifest.MaxTokens);

    protected override ReadOnlySpan<float> RunBatch(IReadOnlyList<string> texts, int start, int count, BatchBuffers buffers)
    {
        var longest = 0;
        for (var i = 0; i < count; i++)
        {
            var ids = Encode(TextAt(texts, start + i));
            buffers.Encoded[i] = ids;
            longest = Math.Max(longest, ids.Count);
        }
        var length = count * longest;
        for (var i = 0; i < count; i++)
        {
            var ids = buffers.Encoded[i]!;
            var row = i * longest;
            for (var t = 0; t < longest; t++)
            {
                var real = t < ids.Count;
                buffers.Ids[row + t] = real ? ids[t] : _tokenizer.PaddingTokenId;
                buffers.Mask[row + t] = real ? 1 : 0;
            }
            buffers.Encoded[i] = null;
        }
        var shape = new long[] { count, longest };
        using var idsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Ids.AsMemory(0, length), shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Mask.AsMemory(0, length), shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers.Types.AsMemory(0, length), shape);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            buffers.Output.AsMemory(0, count * SentimentResult.StarCount), [count, SentimentResult.StarCount]);
        OrtValue[] inputs = _tokenTypes ? [idsValue, maskValue, typesValue] : [idsValue, maskValue];
        Session.Run(buffers.RunOptions, _inputNames, inputs, _outputNames, [output]);
        return buffers.Output.AsSpan(0, count * SentimentResult.StarCount);
    }

    /// <summary>Arrays sized for the largest batch; token_type_ids stay zero (single-sequence classification).</summary>
    internal sealed class BatchBuffers(int maxBatch, int maxTokens) : IDisposable
    {
        public long[] Ids { get; } = new long[maxBatch * maxTokens];
        public long[] Mask { get; } = new long[maxBatch * maxTokens];
        public long[] Types { get; } = new long[maxBatch * maxTokens];
        public IReadOnlyList<int>?[] Encoded { get; } = new IReadOnlyList<int>?[maxBatch];
        public float[] Output { get; } = new float[maxBatch * SentimentResult.StarCount];
        public RunOptions RunOptions { get; } = new();

        public void Dispose() => RunOptions.Dispose();
    }
}
