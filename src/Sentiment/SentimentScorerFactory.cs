using ReviewOrleans.Sentiment.Bert;
using ReviewOrleans.Sentiment.FastText;

namespace ReviewOrleans.Sentiment;

/// <summary>Loads a sentiment model from its manifest and returns the scorer for its kind.</summary>
public static class SentimentScorerFactory
{
    /// <summary>
    /// Loads the model described by <paramref name="path"/>: a manifest JSON file, or a directory holding
    /// <c>model.json</c> and the .onnx file it names.
    /// </summary>
    /// <exception cref="SentimentModelException">A file is missing, the manifest has a bad field, or the ONNX
    /// model's inputs, outputs or label count do not match what the manifest's kind needs.</exception>
    public static ISentimentScorer Load(string path, SentimentScorerOptions? options = null)
    {
        options ??= new SentimentScorerOptions();
        options.Validate();
        var manifest = SentimentModelManifest.Load(path);
        if (!File.Exists(manifest.ModelPath))
        {
            throw new SentimentModelException($"{manifest.ManifestPath}: ONNX model file not found: {manifest.ModelPath}");
        }
        return manifest.Kind switch
        {
            SentimentModelInfo.FastTextKind => new FastTextScorer(manifest, options),
            _ => new BertScorer(manifest, options),
        };
    }
}
