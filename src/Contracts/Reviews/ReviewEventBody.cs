using System.Text;
using System.Text.Json;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>One review read from an event's body, with the line it came from (1 for a body holding one JSON object).</summary>
public readonly record struct EventReview(int Line, ParsedReview Parsed, string Raw);

/// <summary>
/// An event's body as any producer writes it (the Azure SDK, the Kafka endpoint, a Stream Analytics output): one
/// review as a JSON object (pretty-printed or not), several as JSON lines, or Amazon Customer Reviews TSV lines, under
/// their header or in the dataset's column order. Each review is parsed on its own, so one bad line refuses only itself.
/// </summary>
public static class ReviewEventBody
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly Dictionary<string, int> DatasetColumns =
        ReviewParser.AmazonTsvColumns.Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i, StringComparer.Ordinal);

    public static List<EventReview> Parse(ReadOnlySpan<byte> body)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException ex)
        {
            return [new EventReview(0, ParsedReview.Fail("event", "invalid_utf8", $"the body is not UTF-8 (byte {ex.Index}); producers must send text as UTF-8"), "")];
        }
        text = text.TrimStart('\uFEFF');
        var trimmed = text.AsSpan().Trim();
        if (trimmed.IsEmpty)
        {
            return [new EventReview(0, ParsedReview.Fail("event", "empty", "the event body is empty"), "")];
        }
        if (trimmed[0] == '{' && IsOneJsonValue(trimmed))
        {
            return [new EventReview(1, ReviewParser.FromJson(trimmed.ToString()), trimmed.ToString())];
        }

        var lines = text.Split('\n');
        var reviews = new List<EventReview>(lines.Length);
        IReadOnlyDictionary<string, int>? tsvHeader = null;
        var first = true;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            if (first && line.Contains('\t') && (line.Contains("review_id", StringComparison.Ordinal) || line.Contains("review_body", StringComparison.Ordinal)))
            {
                first = false;
                try
                {
                    tsvHeader = ReviewParser.ReadAmazonTsvHeader(line);
                }
                catch (FormatException ex)
                {
                    return [new EventReview(i + 1, ParsedReview.Fail("event", "bad_tsv_header", ex.Message), line)];
                }
                continue;
            }
            first = false;
            var parsed = line.TrimStart().StartsWith('{') ? ReviewParser.FromJson(line)
                : line.Contains('\t') ? ReviewParser.FromAmazonTsv(line, tsvHeader ?? DatasetColumns)
                : ParsedReview.Fail("record", "unknown_format", "neither a JSON object nor a tab-separated Amazon Customer Reviews row");
            reviews.Add(new EventReview(i + 1, parsed, line));
        }
        return reviews;
    }

    private static bool IsOneJsonValue(ReadOnlySpan<char> text)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text.ToArray());
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 16 });
            reader.Read();
            reader.Skip();
            return !reader.Read(); // nothing after the first value: one object, not JSON lines
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
