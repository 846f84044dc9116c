using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using ReviewOrleans.Database;
using ReviewOrleans.Silo.Storage;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// The stores' write query as Orleans runs it (read back from their OrleansQuery tables): a first write inserts,
/// a write at the current version updates, and a stale version or a row that is gone returns nothing, which
/// Orleans reports as a version conflict.
/// </summary>
public sealed class GrainStoreQueryTests
{
    [Fact]
    public void WriteToStorageKey_OnSqlite_OptimisticConcurrency()
    {
        var directory = Directory.CreateTempSubdirectory("revieworleans-store-").FullName;
        try
        {
            var path = Path.Combine(directory, "state.db");
            SqliteGrainStorage.EnsureCreated(path);
            using var connection = new SqliteConnection(SqliteGrainStorage.ConnectionString(path));
            connection.Open();
            CheckWrites(connection);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [PostgresFact]
    public async Task WriteToStorageKey_OnPostgreSql_OptimisticConcurrency()
    {
        await PostgresSchema.ApplyAsync(PostgresFactAttribute.ConnectionString!);
        await PostgresSchema.ApplyAsync(PostgresFactAttribute.ConnectionString!); // a second silo's start
        using var connection = new NpgsqlConnection(PostgresFactAttribute.ConnectionString);
        connection.Open();
        CheckWrites(connection);
    }

    private static void CheckWrites(DbConnection connection)
    {
        var serviceId = $"query-test-{Guid.NewGuid():N}";
        Assert.Equal(1, Write(connection, serviceId, null, [1]));
        Assert.Equal(2, Write(connection, serviceId, 1, [2]));
        Assert.Null(Write(connection, serviceId, 1, [3])); // stale: another activation wrote version 2
        Assert.Null(Write(connection, serviceId, null, [4])); // a "first" write over an existing row
        Assert.Null(Write(connection, $"{serviceId}-gone", 7, [5])); // the row is gone: no silent re-insert
        Assert.Equal(3, Write(connection, serviceId, 2, [6]));
    }

    private static int? Write(DbConnection connection, string serviceId, int? version, byte[] payload)
    {
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'WriteToStorageKey'";
        var text = (string)query.ExecuteScalar()!;
        using var write = connection.CreateCommand();
        write.CommandText = text;
        Add(write, "ServiceId", serviceId);
        Add(write, "GrainTypeString", "test-state");
        Add(write, "GrainIdN0", 42L);
        Add(write, "GrainIdN1", 0L);
        Add(write, "GrainIdExtensionString", DBNull.Value);
        Add(write, "GrainIdHash", 1);
        Add(write, "GrainTypeHash", 2);
        Add(write, "PayloadBinary", payload);
        Add(write, "GrainStateVersion", version is { } v ? v : DBNull.Value);
        var result = write.ExecuteScalar();
        return result is null or DBNull ? null : Convert.ToInt32(result, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.Value = value;
        if (value is DBNull)
        {
            parameter.DbType = name == "GrainStateVersion" ? System.Data.DbType.Int32 : System.Data.DbType.String;
        }
        command.Parameters.Add(parameter);
    }
}
