using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using ReviewOrleans.Grains;

namespace ReviewOrleans.Silo.Storage;

/// <summary>
/// <see cref="IPartitionLog"/> in the platform's database: the PostgreSQL of the cluster profile
/// (db/postgresql/006-partition-log.sql) or the embedded SQLite file (created by <see cref="SqliteGrainStorage"/>).
/// The SQL is common to both; only the way each reports a primary-key conflict differs.
/// </summary>
public sealed class AdoNetPartitionLog(DbDataSource dataSource, string serviceId) : IPartitionLog
{
    public async Task<PartitionLogRecovery> RecoverAsync(int partition, long idsSinceMs, int maxIds, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        long head;
        await using (var command = Command(connection, """
            SELECT COALESCE(MAX(sequence), 0) FROM revieworleans_partition_ids WHERE service_id = @service AND partition = @partition
            """, partition))
        {
            head = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
        }
        var ids = new List<(long, byte[])>();
        await using (var command = Command(connection, """
            SELECT at_ms, id_hashes FROM revieworleans_partition_ids
            WHERE service_id = @service AND partition = @partition AND at_ms >= @since
            ORDER BY sequence DESC
            """, partition))
        {
            Add(command, "@since", idsSinceMs);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var taken = 0L;
            while (taken < maxIds && await reader.ReadAsync(cancellationToken))
            {
                var hashes = (byte[])reader.GetValue(1);
                ids.Add((reader.GetInt64(0), hashes));
                taken += hashes.Length / sizeof(ulong);
            }
        }
        ids.Reverse();
        var effects = await ReadEffectsAsync(connection, partition, 0, long.MaxValue, int.MaxValue, cancellationToken);
        if (effects.Count > 0)
        {
            head = Math.Max(head, effects[^1].Sequence);
        }
        return new PartitionLogRecovery(head, ids, effects);
    }

    /// <summary>
    /// Queues the rows for the next group commit: while one transaction is being written, every partition's appends
    /// gather for the next, so the store sees one transaction (two multi-row inserts) per round instead of one per
    /// batch. A round that fails (a sequence another activation appended, say) is written again row by row, so that
    /// each caller gets its own outcome.
    /// </summary>
    public Task AppendAsync(int partition, long sequence, long atMs, byte[] idHashes, byte[] effects,
        CancellationToken cancellationToken = default)
    {
        var append = new PendingAppend(partition, sequence, atMs, idHashes, effects);
        lock (_queueLock)
        {
            _queue.Add(append);
            _writer ??= Task.Run(WriteQueuedAsync, CancellationToken.None);
        }
        return append.Done.Task;
    }

    private sealed record PendingAppend(int Partition, long Sequence, long AtMs, byte[] IdHashes, byte[] Effects)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Lock _queueLock = new();
    private List<PendingAppend> _queue = [];
    private Task? _writer;

    /// <summary>Rows per command: five parameters each stays well below SQLite's and PostgreSQL's limits.</summary>
    private const int RowsPerStatement = 500;

    private async Task WriteQueuedAsync()
    {
        while (true)
        {
            List<PendingAppend> round;
            lock (_queueLock)
            {
                if (_queue.Count == 0)
                {
                    _writer = null;
                    return;
                }
                round = _queue;
                _queue = [];
            }
            try
            {
                await WriteAsync(round);
                round.ForEach(a => a.Done.SetResult());
            }
            catch (Exception) when (round.Count > 1)
            {
                foreach (var append in round)
                {
                    try
                    {
                        await WriteAsync([append]);
                        append.Done.SetResult();
                    }
                    catch (Exception ex)
                    {
                        append.Done.SetException(Outcome(ex, append));
                    }
                }
            }
            catch (Exception ex)
            {
                round[0].Done.SetException(Outcome(ex, round[0]));
            }
        }
    }

    private static Exception Outcome(Exception ex, PendingAppend append) =>
        ex is DbException db && IsPrimaryKeyConflict(db) ? new PartitionLogConflictException(append.Partition, append.Sequence, ex) : ex;

    private async Task WriteAsync(List<PendingAppend> rows)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        if (connection is NpgsqlConnection && rows.Count <= RowsPerStatement)
        {
            // One round trip: PostgreSQL runs the statements of one command as a single implicit transaction.
            await using var command = InsertCommand(connection, rows);
            await command.ExecuteNonQueryAsync();
            return;
        }
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var chunk in rows.Chunk(RowsPerStatement))
        {
            await using var command = InsertCommand(connection, chunk);
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    /// <summary>Both inserts for <paramref name="rows"/>, in one command of two statements sharing the parameters.</summary>
    private DbCommand InsertCommand(DbConnection connection, IReadOnlyList<PendingAppend> rows)
    {
        var command = connection.CreateCommand();
        var values = new System.Text.StringBuilder();
        var bodies = new System.Text.StringBuilder();
        Add(command, "@service", serviceId);
        for (var i = 0; i < rows.Count; i++)
        {
            values.Append(i == 0 ? "" : ", ").Append($"(@service, @p{i}, @s{i}, @a{i}, @i{i})");
            bodies.Append(i == 0 ? "" : ", ").Append($"(@service, @p{i}, @s{i}, @b{i})");
            Add(command, $"@p{i}", rows[i].Partition);
            Add(command, $"@s{i}", rows[i].Sequence);
            Add(command, $"@a{i}", rows[i].AtMs);
            Add(command, $"@i{i}", rows[i].IdHashes);
            Add(command, $"@b{i}", rows[i].Effects);
        }
        command.CommandText =
            $"INSERT INTO revieworleans_partition_ids (service_id, partition, sequence, at_ms, id_hashes) VALUES {values};\n" +
            $"INSERT INTO revieworleans_partition_effects (service_id, partition, sequence, body) VALUES {bodies};";
        return command;
    }

    public async Task<IReadOnlyList<PartitionLogRow>> ReadEffectsAsync(int partition, long afterSequence, long throughSequence, int maxRows,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadEffectsAsync(connection, partition, afterSequence, throughSequence, maxRows, cancellationToken);
    }

    private async Task<List<PartitionLogRow>> ReadEffectsAsync(DbConnection connection, int partition, long afterSequence, long throughSequence,
        int maxRows, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, """
            SELECT sequence, body FROM revieworleans_partition_effects
            WHERE service_id = @service AND partition = @partition AND sequence > @after AND sequence <= @through
            ORDER BY sequence
            LIMIT @limit
            """, partition);
        Add(command, "@after", afterSequence);
        Add(command, "@through", throughSequence);
        Add(command, "@limit", (long)maxRows);
        var rows = new List<PartitionLogRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new PartitionLogRow(reader.GetInt64(0), (byte[])reader.GetValue(1)));
        }
        return rows;
    }

    public async Task TruncateAsync(int partition, long effectsThrough, long idsBeforeMs, long headSequence, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var command = Command(connection, """
            DELETE FROM revieworleans_partition_effects WHERE service_id = @service AND partition = @partition AND sequence <= @through
            """, partition))
        {
            Add(command, "@through", effectsThrough);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var command = Command(connection, """
            DELETE FROM revieworleans_partition_ids
            WHERE service_id = @service AND partition = @partition AND at_ms < @before AND sequence < @head
            """, partition))
        {
            Add(command, "@before", idsBeforeMs);
            Add(command, "@head", headSequence);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private DbCommand Command(DbConnection connection, string sql, int partition)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        Add(command, "@service", serviceId);
        Add(command, "@partition", partition);
        return command;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static bool IsPrimaryKeyConflict(DbException ex) => ex switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19, // SQLITE_CONSTRAINT
        _ => false,
    };
}
