using Npgsql;
using NpgsqlTypes;

namespace ReviewOrleans.Delivery;

/// <summary>
/// Scored reviews into the <c>scored_reviews</c> table (db/postgresql/007-scored-reviews.sql): per batch, one
/// transaction that loads a session's staging table with binary COPY and moves its rows over with
/// <c>INSERT … ON CONFLICT (review_id) DO NOTHING</c>. A batch that fails half-way leaves nothing behind, and one
/// delivered again (a retry after a lost acknowledgement, a replay after a crash) adds no row twice.
/// </summary>
public sealed class PostgresScoredReviewDestination(NpgsqlDataSource dataSource) : IScoredReviewDestination
{
    internal const string Columns = "review_id, category, source, star_rating, predicted_stars, probability_1, probability_2, " +
        "probability_3, probability_4, probability_5, expected_stars, anomaly_score, ingested_at, event_time, model_version";

    // Temporary, so per connection and never seen by other sessions; emptied at every commit.
    private const string Staging = """
        CREATE TEMP TABLE IF NOT EXISTS scored_reviews_staging (LIKE scored_reviews INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
        """;

    private const string Move = $"""
        INSERT INTO scored_reviews ({Columns}) SELECT {Columns} FROM scored_reviews_staging ON CONFLICT (review_id) DO NOTHING;
        """;

    public string Name => "postgresql";

    /// <summary>Tests: runs before each row is written to the COPY (a COPY failing half-way).</summary>
    internal Action<int>? BeforeRow { get; set; }

    public async Task DeliverAsync(IReadOnlyList<ScoredReview> records, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var staging = new NpgsqlCommand(Staging, connection, transaction))
            {
                await staging.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var copy = await connection.BeginBinaryImportAsync(
                $"COPY scored_reviews_staging ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                // Synchronous writes into the importer's buffer (it blocks only to send a full one): an await per field
                // cost more CPU than PostgreSQL's side of the COPY. This runs on the delivery's own loop, not a grain.
                for (var i = 0; i < records.Count; i++)
                {
                    BeforeRow?.Invoke(i);
                    WriteRow(copy, records[i]);
                }
                await copy.CompleteAsync(cancellationToken);
            }
            await using (var move = new NpgsqlCommand(Move, connection, transaction))
            {
                await move.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
        {
            // Data exception or integrity violation: this content will be refused however often it is sent.
            throw new ScoredReviewRefusedException($"{ex.SqlState} {ex.MessageText}", ex);
        }
    }

    private static void WriteRow(NpgsqlBinaryImporter copy, ScoredReview record)
    {
        copy.StartRow();
        copy.Write(record.ReviewId, NpgsqlDbType.Text);
        copy.Write(record.Category, NpgsqlDbType.Text);
        copy.Write(record.Source, NpgsqlDbType.Text);
        if (record.StarRating is { } rating)
        {
            copy.Write((short)rating, NpgsqlDbType.Smallint);
        }
        else
        {
            copy.WriteNull();
        }
        copy.Write((short)record.PredictedStars, NpgsqlDbType.Smallint);
        for (var s = 0; s < 5; s++)
        {
            copy.Write(s < record.Probabilities.Length ? record.Probabilities[s] : 0f, NpgsqlDbType.Real);
        }
        copy.Write(record.ExpectedStars, NpgsqlDbType.Real);
        if (record.AnomalyScore is { } score && double.IsFinite(score))
        {
            copy.Write(score, NpgsqlDbType.Double);
        }
        else
        {
            copy.WriteNull();
        }
        copy.Write(DateTimeOffset.FromUnixTimeMilliseconds(record.IngestedAtMs).UtcDateTime, NpgsqlDbType.TimestampTz);
        if (record.EventTimeMs is { } eventTime)
        {
            copy.Write(DateTimeOffset.FromUnixTimeMilliseconds(eventTime).UtcDateTime, NpgsqlDbType.TimestampTz);
        }
        else
        {
            copy.WriteNull();
        }
        copy.Write(record.ModelVersion, NpgsqlDbType.Text);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
