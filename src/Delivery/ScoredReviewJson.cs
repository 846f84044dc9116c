using System.Text.Json;

namespace ReviewOrleans.Delivery;

/// <summary>A scored review as one JSON object: the line format of the file destination and of the errors store.</summary>
public static class ScoredReviewJson
{
    public static void Write(Utf8JsonWriter writer, ScoredReview record, string? error = null)
    {
        writer.WriteStartObject();
        writer.WriteString("review_id", record.ReviewId);
        writer.WriteString("product_category", record.Category);
        writer.WriteString("source", record.Source);
        if (record.StarRating is { } rating)
        {
            writer.WriteNumber("star_rating", rating);
        }
        else
        {
            writer.WriteNull("star_rating");
        }
        writer.WriteNumber("predicted_stars", record.PredictedStars);
        writer.WriteStartArray("probabilities");
        foreach (var p in record.Probabilities)
        {
            writer.WriteNumberValue(p);
        }
        writer.WriteEndArray();
        writer.WriteNumber("expected_stars", record.ExpectedStars);
        if (record.AnomalyScore is { } score && double.IsFinite(score))
        {
            writer.WriteNumber("anomaly_score", score);
        }
        else
        {
            writer.WriteNull("anomaly_score");
        }
        writer.WriteString("ingested_at", DateTimeOffset.FromUnixTimeMilliseconds(record.IngestedAtMs));
        if (record.EventTimeMs is { } eventTime)
        {
            writer.WriteString("event_time", DateTimeOffset.FromUnixTimeMilliseconds(eventTime));
        }
        else
        {
            writer.WriteNull("event_time");
        }
        writer.WriteString("model_version", record.ModelVersion);
        if (error is not null)
        {
            writer.WriteString("error", error);
        }
        writer.WriteEndObject();
    }

    /// <summary>Reads a line written by <see cref="Write"/> back (tests, tools).</summary>
    public static ScoredReview Read(ReadOnlySpan<byte> line)
    {
        using var document = JsonDocument.Parse(line.ToArray());
        var root = document.RootElement;
        return new ScoredReview
        {
            ReviewId = root.GetProperty("review_id").GetString()!,
            Category = root.GetProperty("product_category").GetString()!,
            Source = root.GetProperty("source").GetString()!,
            StarRating = root.GetProperty("star_rating").ValueKind == JsonValueKind.Null ? null : root.GetProperty("star_rating").GetInt32(),
            PredictedStars = root.GetProperty("predicted_stars").GetInt32(),
            Probabilities = [.. root.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle())],
            ExpectedStars = root.GetProperty("expected_stars").GetSingle(),
            AnomalyScore = root.GetProperty("anomaly_score").ValueKind == JsonValueKind.Null ? null : root.GetProperty("anomaly_score").GetDouble(),
            IngestedAtMs = root.GetProperty("ingested_at").GetDateTimeOffset().ToUnixTimeMilliseconds(),
            EventTimeMs = root.GetProperty("event_time").ValueKind == JsonValueKind.Null ? null : root.GetProperty("event_time").GetDateTimeOffset().ToUnixTimeMilliseconds(),
            ModelVersion = root.GetProperty("model_version").GetString()!,
        };
    }
}
