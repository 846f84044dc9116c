using Npgsql;

namespace ReviewOrleans.Silo.Storage;

/// <summary>
/// Grain state in PostgreSQL through Orleans' ADO.NET grain storage, with the project's own PostgreSQL schema (the
/// same one table and four queries as the embedded SQLite store), created at silo start when missing. Each query
/// is one atomic statement: an upsert with optimistic concurrency that returns the new version, or nothing on a
/// version conflict, which Orleans reports as such.
/// </summary>
public static class PostgresGrainStorage
{
    /// <summary>The ADO.NET invariant Orleans loads the Npgsql provider by.</summary>
    public const string Invariant = "Npgsql";

    // Serialises schema creation when several silos start against one database at once.
    private const long SchemaLockKey = 0x5265_7669_6577_4F72; // "ReviewOr"

    // Absent key extensions are stored as '' so that the primary key can hold them (NULLs never conflict).
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS OrleansQuery
        (
            QueryKey varchar(64) NOT NULL PRIMARY KEY,
            QueryText text NOT NULL
        );

        CREATE TABLE IF NOT EXISTS OrleansStorage
        (
            ServiceId text NOT NULL,
            GrainTypeString text NOT NULL,
            GrainIdN0 bigint NOT NULL,
            GrainIdN1 bigint NOT NULL,
            GrainIdExtensionString text NOT NULL,
            GrainIdHash integer NOT NULL,
            GrainTypeHash integer NOT NULL,
            PayloadBinary bytea NULL,
            ModifiedOn timestamptz NOT NULL,
            Version integer NOT NULL,
            PRIMARY KEY (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
        );
        """;

    private const string KeyMatch = GrainStoreQueries.KeyMatch;

    private static readonly (string Key, string Text)[] Queries =
    [
        // A first write (no version) inserts; any other write must find its row at the grain's version. A row gone
        // or at another version returns nothing, and Orleans reports the conflict.
        ("WriteToStorageKey", $"""
            INSERT INTO OrleansStorage AS s (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString,
                GrainIdHash, GrainTypeHash, PayloadBinary, ModifiedOn, Version)
            SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(@GrainIdExtensionString, ''),
                @GrainIdHash, @GrainTypeHash, @PayloadBinary, now(), 1
            WHERE CAST(@GrainStateVersion AS integer) IS NULL OR EXISTS (SELECT 1 FROM OrleansStorage WHERE {KeyMatch})
            ON CONFLICT (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString) DO UPDATE SET
                PayloadBinary = excluded.PayloadBinary,
                ModifiedOn = excluded.ModifiedOn,
                Version = s.Version + 1
            WHERE s.Version IS NOT DISTINCT FROM CAST(@GrainStateVersion AS integer)
            RETURNING s.Version AS NewGrainStateVersion;
            """),
        ("ReadFromStorageKey", GrainStoreQueries.Read),
        ("ClearStorageKey", $"""
            UPDATE OrleansStorage
            SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
            WHERE {KeyMatch} AND Version IS NOT DISTINCT FROM CAST(@GrainStateVersion AS integer)
            RETURNING Version AS NewGrainStateVersion;
            """),
        ("DeleteStorageKey", $"""
            DELETE FROM OrleansStorage
            WHERE {KeyMatch} AND Version IS NOT DISTINCT FROM CAST(@GrainStateVersion AS integer)
            RETURNING Version AS NewGrainStateVersion;
            """),
    ];

    /// <summary>Creates the tables and the queries if missing (the queries are replaced, so upgrades take effect).</summary>
    /// <exception cref="InvalidOperationException">The database cannot be reached or refuses the schema; says which.</exception>
    public static void EnsureCreated(string connectionString)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using var transaction = connection.BeginTransaction();
            Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({SchemaLockKey});");
            Execute(connection, transaction, Schema);
            foreach (var (key, text) in Queries)
            {
                using var upsert = new NpgsqlCommand(
                    "INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES (@key, @text) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText",
                    connection, transaction);
                upsert.Parameters.AddWithValue("key", key);
                upsert.Parameters.AddWithValue("text", text);
                upsert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        catch (Exception ex) when (ex is NpgsqlException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"Storage:ConnectionString: cannot prepare the PostgreSQL grain store ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }
}
