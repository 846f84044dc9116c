using System.Data.Common;
using System.Globalization;
using Orleans.Streams;

namespace ReviewOrleans.Hosting.Ingestion;

/// <summary>
/// Event Hubs checkpoints in the platform's own database (the SQLite file, or the cluster's PostgreSQL): one row per
/// service, provider and partition, updated only from the version read (<c>revieworleans_stream_checkpoints</c>).
/// Orleans' <see cref="StreamQueueCheckpointer"/> on top of it keeps them moving forward and writes at most once per
/// interval.
/// </summary>
public sealed class SqlStreamCheckpointStore(DbDataSource dataSource, string serviceId, string provider, string partition) : IStreamCheckpointStore
{
    public async ValueTask<StreamCheckpointStoreState> Load(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        command.CommandText = "SELECT checkpoint, version FROM revieworleans_stream_checkpoints WHERE service_id = @service AND provider = @provider AND partition = @partition";
        AddKey(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StreamCheckpointStoreState(reader.GetString(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture))
            : new StreamCheckpointStoreState("", "");
    }

    public async ValueTask<StreamCheckpointStoreState> Update(string checkpoint, string expectedVersion, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        AddKey(command);
        Add(command, "checkpoint", checkpoint);
        if (expectedVersion.Length == 0)
        {
            command.CommandText = "INSERT INTO revieworleans_stream_checkpoints (service_id, provider, partition, checkpoint, version) " +
                "VALUES (@service, @provider, @partition, @checkpoint, 1) ON CONFLICT DO NOTHING";
        }
        else
        {
            command.CommandText = "UPDATE revieworleans_stream_checkpoints SET checkpoint = @checkpoint, version = version + 1 " +
                "WHERE service_id = @service AND provider = @provider AND partition = @partition AND version = @version";
            Add(command, "version", long.Parse(expectedVersion, CultureInfo.InvariantCulture));
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
        // What the row holds now: ours, or another silo's (the checkpointer compares and tries again from there).
        return await Load(cancellationToken);
    }

    private void AddKey(DbCommand command)
    {
        Add(command, "service", serviceId);
        Add(command, "provider", provider);
        Add(command, "partition", partition);
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>One <see cref="SqlStreamCheckpointStore"/> per partition, behind Orleans' own checkpointer.</summary>
public sealed class SqlStreamCheckpointerFactory(DbDataSource dataSource, string serviceId, string provider, TimeSpan persistInterval)
    : IStreamQueueCheckpointerFactory
{
    public Task<IStreamQueueCheckpointer<string>> Create(string partition) => Create(partition, CancellationToken.None);

    public Task<IStreamQueueCheckpointer<string>> Create(string partition, CancellationToken cancellationToken) =>
        Task.FromResult<IStreamQueueCheckpointer<string>>(new StreamQueueCheckpointer(
            new SqlStreamCheckpointStore(dataSource, serviceId, provider, partition),
            new StreamQueueCheckpointerOptions { PersistInterval = persistInterval, CheckpointComparer = StreamCheckpointComparers.Numeric }));
}
