using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReviewOrleans.Sentiment;

/// <summary>
/// The manifest (model.json) beside a model's .onnx file: what kind of model it is, how to tokenize for it,
/// which output index means which star rating, and how it was trained and measured. Parsed field by field so
/// that a bad manifest is reported with the field's name rather than a serializer stack trace.
/// </summary>
internal sealed class SentimentModelManifest
{
    /// <summary>
    /// Format this build writes. 2 added <c>tokenizer.lexicon</c>: builds that read only 1 would ignore the field and
    /// score a lexicon model without its lexicon features, so they must refuse it instead.
    /// </summary>
    public const int CurrentFormatVersion = 2;

    /// <summary>Oldest format this build reads (1: no <c>tokenizer.lexicon</c>, which means none).</summary>
    public const int OldestFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public required string Id { get; init; }
    public required string Version { get; init; }
    public required string Kind { get; init; }

    /// <summary>ONNX file name, relative to the manifest's directory.</summary>
    public string ModelFile { get; init; } = "model.onnx";

    /// <summary>Star rating (1..5) of each model output index, from the manifest's id2label.</summary>
    public required int[] StarsByOutputIndex { get; init; }

    /// <summary>The original id2label texts, kept so that a rewritten manifest round-trips.</summary>
    public required string[] Id2Label { get; init; }

    /// <summary>Name of the output tensor and whether it holds logits (softmax applied here) or probabilities.</summary>
    public string OutputName { get; init; } = "probabilities";
    public bool OutputIsLogits { get; init; }

    public int MaxTokens { get; init; }

    /// <summary>Kind-specific tokenizer settings (hashed-ngram parameters, or the WordPiece vocabulary file).</summary>
    public JsonObject Tokenizer { get; init; } = [];

    /// <summary>Free-form provenance: training sets, seed, hyper-parameters.</summary>
    public JsonObject? Training { get; init; }

    /// <summary>Free-form measured metrics, written by <c>reviewctl model train</c>.</summary>
    public JsonObject? Metrics { get; init; }

    /// <summary>Directory holding the manifest, against which file names resolve.</summary>
    public string Directory { get; init; } = ".";

    public string ManifestPath { get; init; } = "model.json";

    public string ModelPath => Path.GetFullPath(Path.Combine(Directory, ModelFile));

    public string ResolveFile(string relative) => Path.GetFullPath(Path.Combine(Directory, relative));

    /// <summary>Resolves <paramref name="path"/> (a manifest file or a directory holding model.json) and parses it.</summary>
    public static SentimentModelManifest Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var manifestPath = System.IO.Directory.Exists(path) ? Path.Combine(path, "model.json") : path;
        manifestPath = Path.GetFullPath(manifestPath);
        if (!File.Exists(manifestPath))
        {
            throw new SentimentModelException($"sentiment model manifest not found: {manifestPath}");
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(manifestPath));
        }
        catch (JsonException ex)
        {
            throw new SentimentModelException($"{manifestPath}: not valid JSON ({ex.Message})", ex);
        }
        return Parse(root as JsonObject ?? throw new SentimentModelException($"{manifestPath}: the manifest must be a JSON object"),
            Path.GetDirectoryName(manifestPath)!, manifestPath);
    }

    internal static SentimentModelManifest Parse(JsonObject root, string directory, string manifestPath)
    {
        var formatVersion = ReadInt(root, "formatVersion", manifestPath);
        if (formatVersion is < OldestFormatVersion or > CurrentFormatVersion)
        {
            throw new SentimentModelException(
                $"{manifestPath}: field 'formatVersion' is {formatVersion}; this build reads {OldestFormatVersion} to {CurrentFormatVersion}");
        }
        var kind = ReadString(root, "kind", manifestPath);
        if (kind is not (SentimentModelInfo.FastTextKind or SentimentModelInfo.BertKind))
        {
            throw new SentimentModelException($"{manifestPath}: field 'kind' is '{kind}'; expected '{SentimentModelInfo.FastTextKind}' or '{SentimentModelInfo.BertKind}'");
        }
        var (stars, labels) = ReadId2Label(root, manifestPath);
        var output = root["output"] as JsonObject;
        var outputName = output is null ? (kind == SentimentModelInfo.BertKind ? "logits" : "probabilities") : ReadString(output, "name", manifestPath);
        var activation = output is null ? (kind == SentimentModelInfo.BertKind ? "logits" : "probabilities") : ReadString(output, "values", manifestPath);
        if (activation is not ("logits" or "probabilities"))
        {
            throw new SentimentModelException($"{manifestPath}: field 'output.values' is '{activation}'; expected 'logits' or 'probabilities'");
        }
        var maxTokens = ReadInt(root, "maxTokens", manifestPath);
        if (maxTokens < 1)
        {
            throw new SentimentModelException($"{manifestPath}: field 'maxTokens' must be at least 1, got {maxTokens}");
        }
        return new SentimentModelManifest
        {
            FormatVersion = formatVersion,
            Id = ReadString(root, "id", manifestPath),
            Version = ReadString(root, "version", manifestPath),
            Kind = kind,
            ModelFile = ReadString(root, "model", manifestPath),
            StarsByOutputIndex = stars,
            Id2Label = labels,
            OutputName = outputName,
            OutputIsLogits = activation == "logits",
            MaxTokens = maxTokens,
            Tokenizer = root["tokenizer"] as JsonObject ?? throw new SentimentModelException($"{manifestPath}: field 'tokenizer' is missing or not an object"),
            Training = root["training"] as JsonObject,
            Metrics = root["metrics"] as JsonObject,
            Directory = directory,
            ManifestPath = manifestPath,
        };
    }

    public JsonObject ToJson()
    {
        var id2label = new JsonObject();
        for (var i = 0; i < Id2Label.Length; i++)
        {
            id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Id2Label[i];
        }
        return new JsonObject
        {
            ["formatVersion"] = FormatVersion,
            ["id"] = Id,
            ["version"] = Version,
            ["kind"] = Kind,
            ["model"] = ModelFile,
            ["id2label"] = id2label,
            ["output"] = new JsonObject { ["name"] = OutputName, ["values"] = OutputIsLogits ? "logits" : "probabilities" },
            ["maxTokens"] = MaxTokens,
            ["tokenizer"] = JsonNode.Parse(Tokenizer.ToJsonString()),
            ["training"] = Training is null ? null : JsonNode.Parse(Training.ToJsonString()),
            ["metrics"] = Metrics is null ? null : JsonNode.Parse(Metrics.ToJsonString()),
        };
    }

    public void Save(string manifestPath)
    {
        File.WriteAllText(manifestPath, ToJson().ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a manifest is read by people, not embedded in HTML
        }) + "\n");
    }

    /// <summary>Standard Hugging Face labels for a 1..5 star model ("1 star", "2 stars", ...).</summary>
    public static string[] DefaultId2Label() => ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"];

    private static (int[] Stars, string[] Labels) ReadId2Label(JsonObject root, string manifestPath)
    {
        if (root["id2label"] is not JsonObject map)
        {
            throw new SentimentModelException($"{manifestPath}: field 'id2label' is missing or not an object (expected {{\"0\": \"1 star\", ..., \"4\": \"5 stars\"}})");
        }
        var labels = new string[map.Count];
        var stars = new int[map.Count];
        var seen = new bool[SentimentResult.StarCount + 1];
        foreach (var (key, value) in map)
        {
            // Canonical decimal only: "00" would parse as 0 and leave another output without a label.
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
                || index < 0 || index >= map.Count || key != index.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw new SentimentModelException($"{manifestPath}: field 'id2label' has key '{key}'; keys must be the output indices 0..{map.Count - 1}");
            }
            var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : value is JsonValue n && n.TryGetValue<int>(out var i) ? i.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : throw new SentimentModelException($"{manifestPath}: field 'id2label.{key}' must be a string such as \"1 star\"");
            var trimmed = text.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] < '1' || trimmed[0] > '5' || (trimmed.Length > 1 && char.IsDigit(trimmed[1])))
            {
                throw new SentimentModelException($"{manifestPath}: field 'id2label.{key}' is '{text}'; a label must start with a star rating 1..5 (e.g. \"4 stars\")");
            }
            var star = trimmed[0] - '0';
            if (seen[star])
            {
                throw new SentimentModelException($"{manifestPath}: field 'id2label' maps two outputs to {star} star(s)");
            }
            seen[star] = true;
            labels[index] = text;
            stars[index] = star;
        }
        if (map.Count != SentimentResult.StarCount)
        {
            throw new SentimentModelException($"{manifestPath}: label count mismatch: field 'id2label' has {map.Count} labels; a star model needs exactly {SentimentResult.StarCount} (1..5 stars)");
        }
        return (stars, labels);
    }

    internal static string ReadString(JsonObject obj, string field, string manifestPath) =>
        obj[field] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0
            ? s
            : throw new SentimentModelException($"{manifestPath}: field '{field}' is missing or not a non-empty string");

    internal static int ReadInt(JsonObject obj, string field, string manifestPath) =>
        obj[field] is JsonValue v && v.TryGetValue<int>(out var i)
            ? i
            : throw new SentimentModelException($"{manifestPath}: field '{field}' is missing or not an integer");

    internal static bool ReadBool(JsonObject obj, string field, string manifestPath) =>
        obj[field] is JsonValue v && v.TryGetValue<bool>(out var b)
            ? b
            : throw new SentimentModelException($"{manifestPath}: field '{field}' is missing or not true/false");
}
