using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace ReviewOrleans.Silo.Storage;

/// <summary>
/// The embedded default store: Orleans' ADO.NET grain storage over a local SQLite file, with the project's own
/// SQLite schema. The provider runs each query as one command with no transaction around it, so every query here is
/// a single atomic statement: an upsert with optimistic concurrency (<c>ON CONFLICT … WHERE Version IS …</c>)
/// that returns the new version, or nothing on a version conflict.
/// </summary>
public static class SqliteGrainStorage
{
    /// <summary>
    /// The ADO.NET invariant to give Orleans. The provider maps "System.Data.SQLite" to a SQLite factory that it
    /// loads by reflection from Microsoft.Data.Sqlite; "Microsoft.Data.Sqlite" itself is not in its table.
    /// </summary>
    public const string Invariant = "System.Data.SQLite";

    /// <summary>How long a connection waits for another writer before failing with "database is locked".</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    // Absent key extensions are stored as '' because NULLs are distinct in a SQLite primary key, which would break
    // ON CONFLICT. Grain state rows are keyed by the state's name (Orleans passes it as the grain type).
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS OrleansQuery
        (
            QueryKey TEXT NOT NULL PRIMARY KEY,
            QueryText TEXT NOT NULL
        );

        CREATE TABLE IF NOT EXISTS OrleansStorage
        (
            ServiceId TEXT NOT NULL,
            GrainTypeString TEXT NOT NULL,
            GrainIdN0 INTEGER NOT NULL,
            GrainIdN1 INTEGER NOT NULL,
            GrainIdExtensionString TEXT NOT NULL,
            GrainIdHash INTEGER NOT NULL,
            GrainTypeHash INTEGER NOT NULL,
            PayloadBinary BLOB NULL,
            ModifiedOn TEXT NOT NULL,
            Version INTEGER NOT NULL,
            PRIMARY KEY (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString)
        ) WITHOUT ROWID;

        -- The review partitions' durable log, as db/postgresql/006-partition-log.sql describes it.
        CREATE TABLE IF NOT EXISTS revieworleans_partition_ids
        (
            service_id TEXT NOT NULL,
            partition INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            at_ms INTEGER NOT NULL,
            id_hashes BLOB NOT NULL,
            PRIMARY KEY (service_id, partition, sequence)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS revieworleans_partition_effects
        (
            service_id TEXT NOT NULL,
            partition INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY (service_id, partition, sequence)
        ) WITHOUT ROWID;

        -- Event Hubs checkpoints of Ingest:EventHubs, as db/postgresql/008-stream-checkpoints.sql describes them.
        CREATE TABLE IF NOT EXISTS revieworleans_stream_checkpoints
        (
            service_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            partition TEXT NOT NULL,
            checkpoint TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (service_id, provider, partition)
        ) WITHOUT ROWID;
        """;

    private const string KeyMatch = GrainStoreQueries.KeyMatch;

    private static readonly (string Key, string Text)[] Queries =
    [
        // The SELECT's WHERE (which SQLite also needs to tell an upsert's ON CONFLICT from a join's ON) inserts only
        // a first write: a write with a version whose row is gone returns nothing. A row that exists with another
        // version than the grain's makes the DO UPDATE's WHERE false: nothing is returned either, and Orleans
        // reports the version conflict.
        ("WriteToStorageKey", $"""
            INSERT INTO OrleansStorage (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString,
                GrainIdHash, GrainTypeHash, PayloadBinary, ModifiedOn, Version)
            SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, COALESCE(@GrainIdExtensionString, ''),
                @GrainIdHash, @GrainTypeHash, @PayloadBinary, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 1
            WHERE @GrainStateVersion IS NULL OR EXISTS (SELECT 1 FROM OrleansStorage WHERE {KeyMatch})
            ON CONFLICT (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString) DO UPDATE SET
                PayloadBinary = excluded.PayloadBinary,
                ModifiedOn = excluded.ModifiedOn,
                Version = OrleansStorage.Version + 1
            WHERE OrleansStorage.Version IS @GrainStateVersion
            RETURNING Version AS NewGrainStateVersion;
            """),
        ("ReadFromStorageKey", GrainStoreQueries.Read),
        ("ClearStorageKey", $"""
            UPDATE OrleansStorage
            SET PayloadBinary = NULL, ModifiedOn = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), Version = Version + 1
            WHERE {KeyMatch} AND Version IS @GrainStateVersion
            RETURNING Version AS NewGrainStateVersion;
            """),
        ("DeleteStorageKey", $"""
            DELETE FROM OrleansStorage
            WHERE {KeyMatch} AND Version IS @GrainStateVersion
            RETURNING Version AS NewGrainStateVersion;
            """),
    ];

    /// <summary>The connection string for a database file.</summary>
    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = (int)BusyTimeout.TotalSeconds,
    }.ToString();

    /// <summary>Creates the file, the tables and the queries if missing, and switches the file to WAL journaling.</summary>
    public static void EnsureCreated(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        using var connection = new BusyTimeoutSqliteConnection(ConnectionString(path));
        connection.Open();
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, Schema);
        foreach (var (key, text) in Queries)
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES (@key, @text)";
            insert.Parameters.AddWithValue("@key", key);
            insert.Parameters.AddWithValue("@text", text);
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>A data source whose connections use WAL and a busy timeout, so concurrent grain writes queue instead of failing.</summary>
    public static DbDataSource CreateDataSource(string path) => new BusyTimeoutSqliteDataSource(ConnectionString(path));

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class BusyTimeoutSqliteDataSource(string connectionString) : DbDataSource
    {
        public override string ConnectionString => connectionString;

        protected override DbConnection CreateDbConnection() => new BusyTimeoutSqliteConnection(connectionString);
    }

    /// <summary>Sets the per-connection pragmas on every open; SQLite keeps none of them in the file except WAL.</summary>
    private sealed class BusyTimeoutSqliteConnection(string connectionString) : SqliteConnection(connectionString)
    {
        public override void Open()
        {
            base.Open();
            Execute(this, null, $"PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds};");
        }

        public override Task OpenAsync(CancellationToken cancellationToken)
        {
            Open();
            return Task.CompletedTask;
        }
    }
}
