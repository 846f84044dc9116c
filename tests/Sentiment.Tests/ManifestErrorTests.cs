using System.Text.Json.Nodes;
using Onnx;
using ReviewOrleans.Sentiment.FastText;
using ReviewOrleans.Sentiment.Onnx;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class ManifestErrorTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sentiment-tests", Guid.NewGuid().ToString("N"));

    public ManifestErrorTests()
    {
        var model = new FastTextModel(64, 2);
        TinyModel.Write(model, new HashedNgramOptions(64, 16), _dir);
    }

    private string ManifestPath => Path.Combine(_dir, "model.json");

    private void EditManifest(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        edit(json);
        File.WriteAllText(ManifestPath, json.ToJsonString());
    }

    [Fact]
    public void Load_ValidModel_Succeeds()
    {
        using var scorer = SentimentScorerFactory.Load(_dir);
        Assert.Equal("tiny", scorer.Model.Id);
    }

    [Fact]
    public void Load_MissingManifest_NamesTheFile()
    {
        var path = Path.Combine(_dir, "nope.json");
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(path));
        Assert.Contains("manifest not found", ex.Message);
        Assert.Contains("nope.json", ex.Message);
    }

    [Fact]
    public void Load_MissingOnnxFile_NamesTheFile()
    {
        File.Delete(Path.Combine(_dir, "model.onnx"));
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("ONNX model file not found", ex.Message);
        Assert.Contains("model.onnx", ex.Message);
    }

    [Fact]
    public void Load_WrongInputNames_ListsActualAndExpected()
    {
        var g = new OnnxGraphWriter("wrong");
        g.Input("tokens", TensorProto.Types.DataType.Int64, "features");
        g.Input(FastTextModel.BagsInput, TensorProto.Types.DataType.Int64, "features", 1);
        g.Input("weights", TensorProto.Types.DataType.Float, "batch", 1);
        var logits = g.Initializer("c", new float[5], 1, 5);
        g.Node("Mul", ["weights", logits], FastTextModel.ProbabilitiesOutput);
        g.Output(FastTextModel.ProbabilitiesOutput, TensorProto.Types.DataType.Float, "batch", 5);
        File.WriteAllBytes(Path.Combine(_dir, "model.onnx"), g.ToBytes("tests"));
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("wrong input names", ex.Message);
        Assert.Contains("tokens", ex.Message);
        Assert.Contains("ids", ex.Message);
    }

    [Fact]
    public void Load_ManifestWithFourLabels_LabelCountMismatch()
    {
        EditManifest(j => j["id2label"] = new JsonObject { ["0"] = "1 star", ["1"] = "2 stars", ["2"] = "4 stars", ["3"] = "5 stars" });
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("label count mismatch", ex.Message);
        Assert.Contains("id2label", ex.Message);
    }

    [Fact]
    public void Load_ModelWithThreeOutputClasses_LabelCountMismatch()
    {
        var g = new OnnxGraphWriter("three");
        g.Input(FastTextModel.IdsInput, TensorProto.Types.DataType.Int64, "features");
        g.Input(FastTextModel.BagsInput, TensorProto.Types.DataType.Int64, "features", 1);
        g.Input(FastTextModel.WeightsInput, TensorProto.Types.DataType.Float, "batch", 1);
        var rows = g.Node("Gather", [g.Initializer("e", new float[64 * 3], 64, 3), FastTextModel.IdsInput]);
        g.Node("Softmax", [rows], FastTextModel.ProbabilitiesOutput);
        g.Output(FastTextModel.ProbabilitiesOutput, TensorProto.Types.DataType.Float, "batch", 3);
        File.WriteAllBytes(Path.Combine(_dir, "model.onnx"), g.ToBytes("tests"));
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("label count mismatch", ex.Message);
        Assert.Contains("3 classes", ex.Message);
    }

    [Fact]
    public void Load_LabelWithoutStarNumber_NamesTheField()
    {
        EditManifest(j => j["id2label"]!["4"] = "very positive");
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("id2label.4", ex.Message);
    }

    [Fact]
    public void Load_Id2LabelKeyWithLeadingZero_NamesTheKey()
    {
        // "00" parsed as 0, so output 1 had no label and the scorer failed with IndexOutOfRangeException.
        EditManifest(j => j["id2label"] = new JsonObject { ["0"] = "1 star", ["00"] = "2 stars", ["2"] = "3 stars", ["3"] = "4 stars", ["4"] = "5 stars" });
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("key '00'", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(HashedNgramOptions.MaxWordsLimit + 1)]
    [InlineData(1 << 30)]
    public void Load_MaxWordsOutOfRange_NamesTheField(int maxWords)
    {
        EditManifest(j => j["tokenizer"]!["maxWords"] = maxWords);
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("maxWords 1..4096", ex.Message);
    }

    [Fact]
    public void Load_BatchTooLargeForTheBuffers_NamesMaxBatchSize()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SentimentScorerFactory.Load(_dir, new SentimentScorerOptions { MaxBatchSize = 1 << 30 }));
        Assert.Contains("MaxBatchSize 1073741824", ex.Message);
    }

    [Fact]
    public void Load_MaxTokensNotAnInteger_NamesTheField()
    {
        EditManifest(j => j["maxTokens"] = "many");
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("'maxTokens'", ex.Message);
    }

    [Fact]
    public void Load_UnknownKind_NamesTheField()
    {
        EditManifest(j => j["kind"] = "gpt");
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("'kind'", ex.Message);
    }

    [Fact]
    public void Load_BucketsDisagreeWithTable_NamesTheField()
    {
        EditManifest(j => j["tokenizer"]!["buckets"] = 128);
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("tokenizer.buckets", ex.Message);
    }

    [Fact]
    public void Load_UnknownLexicon_NamesTheFieldAndTheChoices()
    {
        EditManifest(j => j["tokenizer"]!["lexicon"] = "sentiwordnet");
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("'tokenizer.lexicon' is 'sentiwordnet'", ex.Message);
        Assert.Contains("vader", ex.Message);
    }

    [Fact]
    public void Load_ManifestWithoutLexiconField_ReadsAsNoLexicon()
    {
        // Manifests written before lexicon features existed have no such field and must keep their meaning.
        EditManifest(j => j["tokenizer"]!.AsObject().Remove("lexicon"));
        using var scorer = SentimentScorerFactory.Load(ManifestPath);
        var json = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        Assert.Equal(HashedNgramOptions.NoLexicon, HashedNgramOptions.FromJson(json["tokenizer"]!.AsObject(), ManifestPath).Lexicon);
    }

    [Fact]
    public void Load_FormatVersions_OneAndTwoLoadOthersAreRefusedByName()
    {
        Assert.Equal(2, JsonNode.Parse(File.ReadAllText(ManifestPath))!["formatVersion"]!.GetValue<int>());
        EditManifest(j =>
        {
            j["formatVersion"] = 1;
            j["tokenizer"]!.AsObject().Remove("lexicon");
        });
        using (SentimentScorerFactory.Load(ManifestPath))
        {
        }
        EditManifest(j => j["formatVersion"] = 3);
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("'formatVersion' is 3; this build reads 1 to 2", ex.Message);
    }

    [Fact]
    public void Load_InvalidJson_SaysSo()
    {
        File.WriteAllText(ManifestPath, "{ \"id\": ");
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public void Load_CorruptOnnxBytes_SaysOnnxRuntimeCannotLoad()
    {
        File.WriteAllBytes(Path.Combine(_dir, "model.onnx"), [1, 2, 3, 4, 5]);
        var ex = Assert.Throws<SentimentModelException>(() => SentimentScorerFactory.Load(ManifestPath));
        Assert.Contains("cannot load", ex.Message);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
