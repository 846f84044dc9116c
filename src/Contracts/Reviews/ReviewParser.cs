using System.Globalization;
using System.Text.Json;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>A parsed record: the review, or why it could not be read.</summary>
public readonly record struct ParsedReview(ReviewMessage? Review, ReviewRejection? Rejection)
{
    public static ParsedReview Ok(ReviewMessage review) => new(review, null);

    public static ParsedReview Fail(string field, string rule, string message) => new(null, new ReviewRejection(field, rule, message));
}

/// <summary>
/// Reads the three wire formats: a JSON object in the review schema (snake_case Amazon Customer Reviews names plus
/// source and event_time), the reference pipeline's tab-separated line (review_id, product_category, review_body),
/// and Amazon Customer Reviews TSV rows under their header.
/// </summary>
public static partial class ReviewParser
{
    /// <summary>The Amazon Customer Reviews TSV header's columns, in file order.</summary>
    public static readonly string[] AmazonTsvColumns =
    [
        "marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title", "product_category",
        "star_rating", "helpful_votes", "total_votes", "vine", "verified_purchase", "review_headline", "review_body", "review_date",
    ];

    /// <summary>Parses one JSON object. Unknown fields are ignored; a field of the wrong type is an error naming it.</summary>
    public static ParsedReview FromJson(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return ParsedReview.Fail("record", "invalid_json", $"not valid JSON: {ex.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return ParsedReview.Fail("record", "not_an_object", $"a review must be a JSON object, got {document.RootElement.ValueKind}");
            }
            var review = new ReviewMessage();
            var names = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (!names.Add(property.Name))
                    {
                        // Which of the two values counts would be the parser's choice, not the producer's.
                        return ParsedReview.Fail(property.Name, "duplicate", $"{property.Name} appears more than once in the record");
                    }
                    var error = Assign(review, property.Name, property.Value);
                    if (error is not null)
                    {
                        return new ParsedReview(null, error);
                    }
                }
            }
            catch (InvalidOperationException ex)
            {
                // The parser accepts an escaped lone surrogate ("\ud800") that reading the string then refuses; it
                // must fail this record, not the whole call.
                return ParsedReview.Fail("record", "invalid_json", $"not valid JSON text: {ex.Message}");
            }
            return ParsedReview.Ok(review);
        }
    }

    /// <summary>Parses the reference pipeline's line: review_id TAB product_category TAB review_body (the body may hold more tabs).</summary>
    public static ParsedReview FromReferenceTsv(string line)
    {
        var first = line.IndexOf('\t');
        var second = first < 0 ? -1 : line.IndexOf('\t', first + 1);
        if (second < 0)
        {
            return ParsedReview.Fail("record", "bad_tsv", "a reference TSV line needs three tab-separated fields: review_id, product_category, review_body");
        }
        return ParsedReview.Ok(new ReviewMessage
        {
            ReviewId = line[..first],
            ProductCategory = line[(first + 1)..second],
            ReviewBody = line[(second + 1)..].TrimEnd('\r', '\n'),
        });
    }

    /// <summary>Maps an Amazon TSV header to column positions; throws <see cref="FormatException"/> when required columns are missing.</summary>
    public static Dictionary<string, int> ReadAmazonTsvHeader(string header)
    {
        var columns = header.TrimEnd('\r').Split('\t');
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Length; i++)
        {
            positions[columns[i].Trim()] = i;
        }
        var missing = new[] { "review_id", "product_category", "review_body" }.Where(c => !positions.ContainsKey(c)).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException("the TSV header lacks required column(s): " + string.Join(", ", missing));
        }
        return positions;
    }

    /// <summary>Parses one Amazon Customer Reviews TSV row, given the header's column positions.</summary>
    public static ParsedReview FromAmazonTsv(string line, IReadOnlyDictionary<string, int> header)
    {
        var fields = line.TrimEnd('\r', '\n').Split('\t');
        // A tab inside a field shifts every later column, and a cut-off row loses its last ones: neither is read.
        var columns = header.Values.Max() + 1;
        if (fields.Length != columns)
        {
            return ParsedReview.Fail("record", "bad_tsv", $"the row has {fields.Length} tab-separated fields but the header {columns} (a tab inside a field, or a cut-off row?)");
        }
        var review = new ReviewMessage();
        foreach (var (name, position) in header)
        {
            if (position >= fields.Length)
            {
                continue;
            }
            var error = AssignText(review, name, fields[position]);
            if (error is not null)
            {
                return new ParsedReview(null, error);
            }
        }
        return ParsedReview.Ok(review);
    }

    private static ReviewRejection? Assign(ReviewMessage review, string name, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        switch (name)
        {
            case "star_rating":
            case "helpful_votes":
            case "total_votes":
                if (value.ValueKind == JsonValueKind.Number)
                {
                    if (!TryGetIntegral(value, out var number))
                    {
                        return new ReviewRejection(name, "not_an_integer", $"{name} must be an integer, got {value.GetRawText()}");
                    }
                    return SetInt(review, name, number);
                }
                break;
            case "vine":
            case "verified_purchase":
                if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    SetBool(review, name, value.GetBoolean());
                    return null;
                }
                break;
            case "event_time":
                if (value.ValueKind == JsonValueKind.Number)
                {
                    if (!value.TryGetInt64(out var ms))
                    {
                        return new ReviewRejection(name, "invalid_time", $"event_time must be Unix milliseconds or ISO 8601, got {value.GetRawText()}");
                    }
                    review.EventTimeMs = ms;
                    return null;
                }
                break;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            return Known(name)
                ? new ReviewRejection(name, "wrong_type", $"{name} must be a string, got {value.ValueKind}")
                : null;
        }
        return AssignText(review, name, value.GetString()!);
    }

    /// <summary>
    /// An ISO 8601 date first (yyyy-MM-dd): DateTimeOffset.TryParse alone takes "12:00" as today at noon.
    /// </summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]|$)")]
    private static partial System.Text.RegularExpressions.Regex IsoDate();

    /// <summary>An int, also written as 5.0 or 5e0: JSON has one number type, so those are the integer 5.</summary>
    private static bool TryGetIntegral(JsonElement value, out int number)
    {
        if (value.TryGetInt32(out number))
        {
            return true;
        }
        if (value.TryGetDouble(out var real) && real == Math.Floor(real) && real is >= int.MinValue and <= int.MaxValue)
        {
            number = (int)real;
            return true;
        }
        return false;
    }

    private static bool Known(string name) => name is "source" or "event_time" || Array.IndexOf(AmazonTsvColumns, name) >= 0;

    private static ReviewRejection? AssignText(ReviewMessage review, string name, string text)
    {
        switch (name)
        {
            case "marketplace": review.Marketplace = text; break;
            case "customer_id": review.CustomerId = text; break;
            case "review_id": review.ReviewId = text; break;
            case "product_id": review.ProductId = text; break;
            case "product_parent": review.ProductParent = text; break;
            case "product_title": review.ProductTitle = text; break;
            case "product_category": review.ProductCategory = text; break;
            case "review_headline": review.ReviewHeadline = text; break;
            case "review_body": review.ReviewBody = text; break;
            case "review_date": review.ReviewDate = text; break;
            case "source": review.Source = text; break;
            case "star_rating" or "helpful_votes" or "total_votes":
                if (text.Length == 0)
                {
                    return null;
                }
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                {
                    return new ReviewRejection(name, "not_an_integer", $"{name} must be an integer, got '{Clip(text)}'");
                }
                return SetInt(review, name, number);
            case "vine" or "verified_purchase":
                if (text.Length == 0)
                {
                    return null;
                }
                bool? flag = text.ToUpperInvariant() switch { "Y" or "YES" or "TRUE" or "1" => true, "N" or "NO" or "FALSE" or "0" => false, _ => null };
                if (flag is null)
                {
                    return new ReviewRejection(name, "not_a_flag", $"{name} must be Y/N or true/false, got '{Clip(text)}'");
                }
                SetBool(review, name, flag.Value);
                break;
            case "event_time":
                if (text.Length == 0)
                {
                    return null;
                }
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)) // digits only: no sign, space or separator
                {
                    review.EventTimeMs = ms;
                }
                else if (IsoDate().IsMatch(text)
                    && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                {
                    review.EventTimeMs = time.ToUnixTimeMilliseconds();
                }
                else
                {
                    return new ReviewRejection(name, "invalid_time", $"event_time must be ISO 8601 or Unix milliseconds, got '{Clip(text)}'");
                }
                break;
        }
        return null;
    }

    private static ReviewRejection? SetInt(ReviewMessage review, string name, int value)
    {
        switch (name)
        {
            case "star_rating": review.StarRating = value; break;
            case "helpful_votes": review.HelpfulVotes = value; break;
            default: review.TotalVotes = value; break;
        }
        return null;
    }

    private static void SetBool(ReviewMessage review, string name, bool value)
    {
        if (name == "vine")
        {
            review.Vine = value;
        }
        else
        {
            review.VerifiedPurchase = value;
        }
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
