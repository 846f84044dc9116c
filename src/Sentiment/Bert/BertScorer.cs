namespace ReviewOrleans.Sentiment.Bert;

internal sealed class BertScorer : Onnx.OnnxSentimentScorer<object>
{
    public BertScorer(SentimentModelManifest manifest, SentimentScorerOptions options) : base(manifest, options) =>
        throw new SentimentModelException("bert models: not yet implemented");

    protected override object CreateBuffers() => new();

    protected override ReadOnlySpan<float> RunBatch(IReadOnlyList<string> texts, int start, int count, object buffers) => throw new NotSupportedException();
}
