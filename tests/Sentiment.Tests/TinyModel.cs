using ReviewOrleans.Sentiment.FastText;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Tests;

/// <summary>
/// A small fastText model trained in well under a second on a seeded synthetic corpus: texts mix positive,
/// negative and neutral words, and the label follows the balance of positive and negative words.
/// </summary>
internal sealed class TinyModel : IDisposable
{
    private static readonly string[] PositiveWords = ["great", "love", "perfect", "excellent", "comfortable", "beautiful", "happy"];
    private static readonly string[] NegativeWords = ["awful", "broke", "terrible", "returned", "cheap", "disappointed", "worst"];
    private static readonly string[] NeutralWords = ["dress", "the", "it", "size", "color", "shoes", "and", "was", "i", "bought", "this", "fabric"];

    public TinyModel(int seed = 7, int buckets = 4096, int dim = 4)
    {
        Options = new FastTextTrainingOptions { Buckets = buckets, Dim = dim, MaxWords = 64, Epochs = 5, LearningRate = 0.3f, Seed = seed };
        Train = Corpus(seed, 1500);
        Test = Corpus(seed + 1000, 400);
        Model = new FastTextTrainer(Options).Train(Train);
        Directory = Path.Combine(Path.GetTempPath(), "sentiment-tests", Guid.NewGuid().ToString("N"));
        ManifestPath = Write(Model, Options.TokenizerOptions, Directory);
    }

    public FastTextTrainingOptions Options { get; }
    public IReadOnlyList<LabeledText> Train { get; }
    public IReadOnlyList<LabeledText> Test { get; }
    public FastTextModel Model { get; }
    public string Directory { get; }
    public string ManifestPath { get; }
    public HashedNgramTokenizer Tokenizer => new(Options.TokenizerOptions);

    /// <summary>Writes model.onnx and model.json into <paramref name="directory"/> and returns the manifest's path.</summary>
    public static string Write(FastTextModel model, HashedNgramOptions tokenizer, string directory, string[]? id2label = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "model.onnx"), model.ToOnnx("tests"));
        var manifest = new SentimentModelManifest
        {
            Id = "tiny",
            Version = "test",
            Kind = SentimentModelInfo.FastTextKind,
            StarsByOutputIndex = [1, 2, 3, 4, 5],
            Id2Label = id2label ?? SentimentModelManifest.DefaultId2Label(),
            MaxTokens = tokenizer.MaxWords,
            Tokenizer = tokenizer.ToJson(),
        };
        var path = Path.Combine(directory, "model.json");
        manifest.Save(path);
        return path;
    }

    public static List<LabeledText> Corpus(int seed, int count)
    {
        var random = new Random(seed);
        var result = new List<LabeledText>(count);
        for (var i = 0; i < count; i++)
        {
            var stars = random.Next(1, 6);
            var words = new List<string>();
            var length = random.Next(4, 20);
            for (var w = 0; w < length; w++)
            {
                words.Add(NeutralWords[random.Next(NeutralWords.Length)]);
            }
            var sentimentWords = Math.Abs(stars - 3) + 1;
            for (var s = 0; s < sentimentWords; s++)
            {
                var list = stars > 3 ? PositiveWords : stars < 3 ? NegativeWords : (s % 2 == 0 ? PositiveWords : NegativeWords);
                words.Insert(random.Next(words.Count + 1), list[random.Next(list.Length)]);
            }
            var text = string.Join(' ', words);
            // Every third text carries only a binary label, as fdu-mtl does, to exercise the partial-label loss.
            result.Add(i % 3 == 0 && stars != 3
                ? LabeledText.FromBinary(text, stars > 3, "synthetic", "binary")
                : LabeledText.FromStars(text, stars, "synthetic", "stars"));
        }
        return result;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A scorer still holding the file on another platform; the temp folder is cleaned by the OS.
        }
    }
}
