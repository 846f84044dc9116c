using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace ReviewOrleans.Sentiment.Bert;

/// <summary>
/// Reads the WordPiece tokenizer a BERT-style model was exported with, through Microsoft.ML.Tokenizers'
/// <see cref="BertTokenizer"/>: either a vocab.txt (one token a line, line number = id) or a Hugging Face
/// tokenizer.json whose model is WordPiece (its vocab map is turned into the same one-token-a-line stream).
/// </summary>
internal static class BertTokenizerSettings
{
    public const string VocabTxtType = "wordpiece";
    public const string TokenizerJsonType = "tokenizer.json";

    public static BertTokenizer Create(SentimentModelManifest manifest)
    {
        var json = manifest.Tokenizer;
        var type = SentimentModelManifest.ReadString(json, "type", manifest.ManifestPath);
        var file = manifest.ResolveFile(SentimentModelManifest.ReadString(json, "file", manifest.ManifestPath));
        if (!File.Exists(file))
        {
            throw new SentimentModelException($"{manifest.ManifestPath}: tokenizer file not found: {file}");
        }
        return type switch
        {
            VocabTxtType => FromVocab(File.ReadAllBytes(file), json["lowercase"] is JsonValue v && v.TryGetValue<bool>(out var lower) ? lower : true),
            TokenizerJsonType => FromTokenizerJson(file, manifest.ManifestPath),
            _ => throw new SentimentModelException($"{manifest.ManifestPath}: field 'tokenizer.type' is '{type}'; a bert model needs '{VocabTxtType}' (vocab.txt) or '{TokenizerJsonType}'"),
        };
    }

    private static BertTokenizer FromVocab(byte[] vocab, bool lowercase)
    {
        using var stream = new MemoryStream(vocab);
        return BertTokenizer.Create(stream, new BertOptions { LowerCaseBeforeTokenization = lowercase });
    }

    private static BertTokenizer FromTokenizerJson(string file, string manifestPath)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(file))?.AsObject() ?? throw new SentimentModelException($"{file}: not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new SentimentModelException($"{file}: not valid JSON ({ex.Message})", ex);
        }
        if (root["model"] is not JsonObject model || model["type"]?.GetValue<string>() != "WordPiece" || model["vocab"] is not JsonObject vocab)
        {
            throw new SentimentModelException($"{file} (from {manifestPath}): only a WordPiece tokenizer.json (model.type \"WordPiece\" with a vocab map) is supported");
        }
        var tokens = new string[vocab.Count];
        foreach (var (token, id) in vocab)
        {
            var index = id?.GetValue<int>() ?? -1;
            if (index < 0 || index >= tokens.Length || tokens[index] is not null)
            {
                throw new SentimentModelException($"{file}: vocab ids must be 0..{tokens.Length - 1} and unique; '{token}' has {id}");
            }
            tokens[index] = token;
        }
        var lowercase = root["normalizer"] is JsonObject normalizer && normalizer["lowercase"] is JsonValue l && l.TryGetValue<bool>(out var lower) ? lower : true;
        return FromVocab(Encoding.UTF8.GetBytes(string.Join('\n', tokens) + "\n"), lowercase);
    }
}
