using Npgsql;

namespace ReviewOrleans.Delivery;

/// <summary>What <c>reviewctl query scored</c> asks of the <c>scored_reviews</c> table, newest first.</summary>
public sealed record ScoredReviewFilter(string? Category, int? StarRating, int? PredictedStars, long SinceMs, long? UntilMs, int Limit);

/// <summary>Reads the <c>scored_reviews</c> table for the gateway, so that client apps need no database credentials.</summary>
public sealed class ScoredReviewQuery(NpgsqlDataSource dataSource)
{
    public const int MaxLimit = 10_000;

    public async Task<IReadOnlyList<ScoredReview>> RunAsync(ScoredReviewFilter filter, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand();
        var where = new List<string> { "ingested_at >= @since" };
        command.Parameters.AddWithValue("since", DateTimeOffset.FromUnixTimeMilliseconds(filter.SinceMs).UtcDateTime);
        if (filter.UntilMs is { } until)
        {
            where.Add("ingested_at < @until");
            command.Parameters.AddWithValue("until", DateTimeOffset.FromUnixTimeMilliseconds(until).UtcDateTime);
        }
        if (filter.Category is { } category)
        {
            where.Add("category = @category");
            command.Parameters.AddWithValue("category", category);
        }
        if (filter.StarRating is { } stars)
        {
            where.Add("star_rating = @stars");
            command.Parameters.AddWithValue("stars", (short)stars);
        }
        if (filter.PredictedStars is { } predicted)
        {
            where.Add("predicted_stars = @predicted");
            command.Parameters.AddWithValue("predicted", (short)predicted);
        }
        command.Parameters.AddWithValue("limit", Math.Clamp(filter.Limit, 1, MaxLimit));
        command.CommandText = $"SELECT {PostgresScoredReviewDestination.Columns} FROM scored_reviews WHERE {string.Join(" AND ", where)} " +
            "ORDER BY ingested_at DESC, review_id LIMIT @limit";
        var results = new List<ScoredReview>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            results.Add(new ScoredReview
            {
                ReviewId = reader.GetString(0),
                Category = reader.GetString(1),
                Source = reader.GetString(2),
                StarRating = reader.IsDBNull(3) ? null : reader.GetInt16(3),
                PredictedStars = reader.GetInt16(4),
                Probabilities = [reader.GetFloat(5), reader.GetFloat(6), reader.GetFloat(7), reader.GetFloat(8), reader.GetFloat(9)],
                ExpectedStars = reader.GetFloat(10),
                AnomalyScore = reader.IsDBNull(11) ? null : reader.GetDouble(11),
                IngestedAtMs = new DateTimeOffset(reader.GetDateTime(12)).ToUnixTimeMilliseconds(),
                EventTimeMs = reader.IsDBNull(13) ? null : new DateTimeOffset(reader.GetDateTime(13)).ToUnixTimeMilliseconds(),
                ModelVersion = reader.GetString(14),
            });
        }
        return results;
    }
}
