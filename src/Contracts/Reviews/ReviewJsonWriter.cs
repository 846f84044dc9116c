using System.Text.Json;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>Writes reviews as JSON objects in the review schema that <see cref="ReviewParser.FromJson"/> reads.</summary>
public static class ReviewJsonWriter
{
    public static void Write(Utf8JsonWriter json, ReviewMessage review)
    {
        json.WriteStartObject();
        WriteIfSet(json, "marketplace", review.Marketplace);
        WriteIfSet(json, "customer_id", review.CustomerId);
        json.WriteString("review_id", review.ReviewId);
        WriteIfSet(json, "product_id", review.ProductId);
        WriteIfSet(json, "product_parent", review.ProductParent);
        WriteIfSet(json, "product_title", review.ProductTitle);
        json.WriteString("product_category", review.ProductCategory);
        WriteIfSet(json, "star_rating", review.StarRating);
        WriteIfSet(json, "helpful_votes", review.HelpfulVotes);
        WriteIfSet(json, "total_votes", review.TotalVotes);
        if (review.Vine is { } vine) json.WriteBoolean("vine", vine);
        if (review.VerifiedPurchase is { } verified) json.WriteBoolean("verified_purchase", verified);
        WriteIfSet(json, "review_headline", review.ReviewHeadline);
        json.WriteString("review_body", review.ReviewBody);
        WriteIfSet(json, "review_date", review.ReviewDate);
        WriteIfSet(json, "source", review.Source);
        if (review.EventTimeMs is { } ms)
        {
            json.WriteString("event_time", DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }
        json.WriteEndObject();
    }

    /// <summary>One review as a single-line JSON string.</summary>
    public static string ToJson(ReviewMessage review)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, review);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }
}
