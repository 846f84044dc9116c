using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace ReviewOrleans.Database;

/// <summary>
/// The cluster's PostgreSQL schema: the versioned scripts under <c>db/postgresql/</c> (grain storage, clustering,
/// reminders, streams, the project's own tables), embedded in this assembly and applied in order. The scripts are
/// idempotent, and <c>schema_version</c> records each one applied, so that a database is brought to this build's
/// version by whoever gets there first (<c>reviewctl db init</c>, or a silo with <c>Storage:ApplySchema=true</c>),
/// and a database that a newer build has already upgraded is refused rather than used with queries it does not match.
/// </summary>
public static class PostgresSchema
{
    /// <summary>The ADO.NET invariant Orleans loads the Npgsql provider by.</summary>
    public const string Invariant = "Npgsql";

    // Serialises schema changes when several silos start against one database at once ("ReviewOr").
    private const long SchemaLockKey = 0x5265_7669_6577_4F72;

    private const string VersionTable = """
        CREATE TABLE IF NOT EXISTS schema_version
        (
            version integer NOT NULL PRIMARY KEY,
            script text NOT NULL,
            sha256 text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>The scripts of this build, in the order they apply (by their number).</summary>
    public static IReadOnlyList<SchemaScript> Scripts { get; } = LoadScripts();

    /// <summary>The schema version this build expects: its highest script number.</summary>
    public static int BuildVersion => Scripts[^1].Version;

    /// <summary>
    /// Brings the database to <see cref="BuildVersion"/>: applies, in one transaction, each script newer than the
    /// database's version. Returns the scripts applied (none when it was current).
    /// </summary>
    /// <exception cref="SchemaException">The database is unreachable, refuses a script, or is newer than this build.</exception>
    public static async Task<IReadOnlyList<SchemaScript>> ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(connectionString, cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({SchemaLockKey});", cancellationToken);
            await ExecuteAsync(connection, transaction, VersionTable, cancellationToken);
            var current = await CurrentVersionAsync(connection, transaction, cancellationToken);
            RefuseNewer(current);
            var applied = new List<SchemaScript>();
            foreach (var script in Scripts.Where(s => s.Version > current.Version))
            {
                try
                {
                    await ExecuteAsync(connection, transaction, script.Text, cancellationToken);
                }
                catch (PostgresException ex)
                {
                    throw new SchemaException($"PostgreSQL refused schema script {script.Name}: {ex.MessageText}", ex);
                }
                await using var record = new NpgsqlCommand(
                    "INSERT INTO schema_version (version, script, sha256) VALUES (@version, @script, @sha256)", connection, transaction);
                record.Parameters.AddWithValue("version", script.Version);
                record.Parameters.AddWithValue("script", script.Name);
                record.Parameters.AddWithValue("sha256", script.Sha256);
                await record.ExecuteNonQueryAsync(cancellationToken);
                applied.Add(script);
            }
            await transaction.CommitAsync(cancellationToken);
            return applied;
        }
        catch (NpgsqlException ex)
        {
            throw Unreachable(connectionString, ex);
        }
    }

    /// <summary>The <c>scored_reviews</c> table alone, for a delivery database that is not the cluster's (Delivery:PostgresConnectionString).</summary>
    public static SchemaScript ScoredReviewsScript => Scripts.Single(s => s.Name.EndsWith("-scored-reviews.sql", StringComparison.Ordinal));

    /// <summary>Applies one idempotent script outside the versioned schema; <paramref name="setting"/> names where the connection string came from.</summary>
    /// <exception cref="SchemaException">Unreachable or refused, with the setting named.</exception>
    public static async Task ApplyScriptAsync(string connectionString, SchemaScript script, string setting, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(connectionString, cancellationToken);
            await ExecuteAsync(connection, null, script.Text, cancellationToken);
        }
        catch (PostgresException ex)
        {
            throw new SchemaException($"{setting}: PostgreSQL refused schema script {script.Name}: {ex.MessageText}", ex);
        }
        catch (NpgsqlException ex)
        {
            var error = Unreachable(connectionString, ex);
            throw new SchemaException($"{setting}: {error.Message}", ex);
        }
    }

    /// <summary>
    /// Checks, without changing anything, that the database is at this build's version: a process started with
    /// <c>Storage:ApplySchema=false</c> stops with this message instead of failing later on a missing table or query.
    /// </summary>
    /// <exception cref="SchemaException">Unreachable, older (says to run <c>reviewctl db init</c>) or newer than this build.</exception>
    public static async Task VerifyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(connectionString, cancellationToken);
            await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_version') IS NOT NULL", connection);
            (int Version, string Script) current = (bool)(await exists.ExecuteScalarAsync(cancellationToken))!
                ? await CurrentVersionAsync(connection, null, cancellationToken)
                : (0, "");
            RefuseNewer(current);
            if (current.Version < BuildVersion)
            {
                throw new SchemaException(
                    $"the PostgreSQL schema is at version {current.Version}{(current.Script.Length > 0 ? $" ({current.Script})" : "")}, this build needs {BuildVersion} ({Scripts[^1].Name}): " +
                    "run `reviewctl db init --connection \"<connection string>\"` first, or start this process with Storage:ApplySchema=true");
            }
        }
        catch (NpgsqlException ex)
        {
            throw Unreachable(connectionString, ex);
        }
    }

    /// <summary>The database's schema version and its newest script's name; (0, "") before any script.</summary>
    public static async Task<(int Version, string Script)> ReadVersionAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(connectionString, cancellationToken);
            await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_version') IS NOT NULL", connection);
            return (bool)(await exists.ExecuteScalarAsync(cancellationToken))!
                ? await CurrentVersionAsync(connection, null, cancellationToken)
                : (0, "");
        }
        catch (NpgsqlException ex)
        {
            throw Unreachable(connectionString, ex);
        }
    }

    private static void RefuseNewer((int Version, string Script) current)
    {
        if (current.Version > BuildVersion)
        {
            throw new SchemaException(
                $"the PostgreSQL schema is at version {current.Version} ({current.Script}), newer than this build's {BuildVersion} ({Scripts[^1].Name}): " +
                "a newer ReviewOrleans upgraded this database; run that build (or newer) instead of this one");
        }
    }

    private static async Task<(int Version, string Script)> CurrentVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("SELECT version, script FROM schema_version ORDER BY version DESC LIMIT 1", connection, transaction);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt32(0), reader.GetString(1)) : (0, "");
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        try
        {
            connection = new NpgsqlConnection(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new SchemaException($"the PostgreSQL connection string is not valid: {ex.Message}", ex);
        }
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SchemaException Unreachable(string connectionString, NpgsqlException ex)
    {
        var where = new NpgsqlConnectionStringBuilder(connectionString);
        return new SchemaException(
            $"cannot use PostgreSQL at {where.Host}:{where.Port}, database '{where.Database}' ({ex.GetType().Name}: {ex.Message})", ex);
    }

    private static IReadOnlyList<SchemaScript> LoadScripts()
    {
        var assembly = typeof(PostgresSchema).Assembly;
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("db/postgresql/", StringComparison.Ordinal)))
        {
            var name = resource["db/postgresql/".Length..];
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), out var version) || version <= 0)
            {
                throw new InvalidOperationException($"schema script {name} must be named NNN-what.sql");
            }
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = reader.ReadToEnd();
            scripts.Add(new SchemaScript(version, name, text, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < scripts.Count; i++)
        {
            if (scripts[i].Version != i + 1)
            {
                throw new InvalidOperationException($"schema scripts must be numbered 1, 2, 3… without gaps; found {scripts[i].Name} at position {i + 1}");
            }
        }
        return scripts.Count > 0 ? scripts : throw new InvalidOperationException("no schema scripts embedded");
    }
}

/// <summary>One versioned script of <c>db/postgresql/</c>.</summary>
public sealed record SchemaScript(int Version, string Name, string Text, string Sha256);

/// <summary>The database cannot be used with this build; the message says why and what to do.</summary>
public sealed class SchemaException(string message, Exception? inner = null) : Exception(message, inner);
