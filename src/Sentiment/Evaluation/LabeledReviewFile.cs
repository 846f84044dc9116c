using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Evaluation;

/// <summary>
/// Reads labelled reviews for evaluation (<c>reviewctl model eval FILE</c>): the project's review JSONL (one object a line with
/// <c>star_rating</c>, <c>review_body</c>, optional <c>review_headline</c> and <c>product_category</c>) or the Amazon
/// Customer Reviews TSV (header marketplace … review_date). Either may be gzip-compressed (.gz). Rows without a
/// 1–5 star rating or without text are skipped and counted.
/// </summary>
internal static class LabeledReviewFile
{
    public static (List<LabeledText> Texts, int Skipped) Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"file not found: {path}", path);
        }
        using var stream = OpenMaybeGzip(path);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Read(reader, Path.GetFileName(path));
    }

    /// <summary>Reads JSONL or Amazon TSV (told apart by the first line) from <paramref name="reader"/>; <paramref name="name"/> labels the dataset.</summary>
    public static (List<LabeledText> Texts, int Skipped) Read(TextReader reader, string name)
    {
        var first = reader.ReadLine();
        if (first is null)
        {
            return ([], 0);
        }
        return first.TrimStart().StartsWith('{') ? ReadJsonl(first, reader, name) : ReadTsv(first, reader, name);
    }

    private static Stream OpenMaybeGzip(string path)
    {
        var file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static (List<LabeledText>, int) ReadJsonl(string first, TextReader reader, string name)
    {
        var texts = new List<LabeledText>();
        var skipped = 0;
        var lineNumber = 0;
        for (var line = first; line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: not a JSON object ({ex.Message})", ex);
            }
            using var owned = document;
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{name}:{lineNumber}: not a JSON object");
            }
            var stars = root.TryGetProperty("star_rating", out var s) ? ParseStars(s) : 0;
            var body = root.TryGetProperty("review_body", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString()! : "";
            var headline = root.TryGetProperty("review_headline", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString()! : "";
            var category = root.TryGetProperty("product_category", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "(none)";
            Add(texts, ref skipped, headline, body, stars, name, category);
        }
        return (texts, skipped);
    }

    private static (List<LabeledText>, int) ReadTsv(string header, TextReader reader, string name)
    {
        var columns = header.Split('\t');
        int Column(string column) => Array.IndexOf(columns, column) is var i and >= 0
            ? i
            : throw new InvalidDataException($"{name}: not review JSONL and the TSV header has no '{column}' column (expected the Amazon Customer Reviews header marketplace … review_date)");
        var starColumn = Column("star_rating");
        var bodyColumn = Column("review_body");
        var headlineColumn = Array.IndexOf(columns, "review_headline");
        var categoryColumn = Array.IndexOf(columns, "product_category");
        var texts = new List<LabeledText>();
        var skipped = 0;
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split('\t');
            if (fields.Length <= Math.Max(starColumn, bodyColumn))
            {
                skipped++;
                continue;
            }
            var stars = int.TryParse(fields[starColumn], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
            var headline = headlineColumn >= 0 && headlineColumn < fields.Length ? fields[headlineColumn] : "";
            var category = categoryColumn >= 0 && categoryColumn < fields.Length ? fields[categoryColumn] : "(none)";
            Add(texts, ref skipped, headline, fields[bodyColumn].Replace("<br />", " ", StringComparison.Ordinal), stars, name, category);
        }
        return (texts, skipped);
    }

    private static int ParseStars(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt32(out var i) => i,
        JsonValueKind.String when int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var i) => i,
        _ => 0,
    };

    private static void Add(List<LabeledText> texts, ref int skipped, string headline, string body, int stars, string dataset, string category)
    {
        var text = SentimentDataSplits.JoinTitle(headline, body);
        if (stars is < 1 or > 5 || text.Length == 0)
        {
            skipped++;
            return;
        }
        texts.Add(LabeledText.FromStars(text, stars, dataset, category.Length == 0 ? "(none)" : category));
    }
}
