using Npgsql;

namespace ReviewOrleans.Database;

/// <summary>
/// The settings that must be equal on every silo and standalone gateway of one service: the partition count (a
/// review's partition, and so the de-duplication that sees it, is its id's hash modulo that count), the anomaly
/// shards (which forest a partition feeds) and the stream queues (which queue a partition's batches go to, and so
/// which silo pulls them). Nothing in Orleans compares them, and a disagreeing gateway would route reviews past the
/// grains that de-duplicate them, so each process records or compares them in the database when it starts.
/// </summary>
public sealed record ClusterSettings(int Partitions, int AnomalyShards, int StreamQueues)
{
    /// <summary>
    /// Records these settings for <paramref name="serviceId"/> if none are recorded yet, else compares.
    /// </summary>
    /// <param name="process">Who records (e.g. "silo 127.0.0.1:11111"), kept for the message another process gets.</param>
    /// <exception cref="ClusterSettingsMismatchException">The service runs with other settings; says which and how to change them.</exception>
    public async Task RecordOrCompareAsync(string connectionString, string serviceId, string process, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO revieworleans_cluster_settings (service_id, partitions, anomaly_shards, stream_queues, recorded_by)
            VALUES (@service, @partitions, @shards, @queues, @process)
            ON CONFLICT (service_id) DO NOTHING
            """, connection))
        {
            insert.Parameters.AddWithValue("service", serviceId);
            insert.Parameters.AddWithValue("partitions", Partitions);
            insert.Parameters.AddWithValue("shards", AnomalyShards);
            insert.Parameters.AddWithValue("queues", StreamQueues);
            insert.Parameters.AddWithValue("process", process);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var select = new NpgsqlCommand(
            "SELECT partitions, anomaly_shards, stream_queues, recorded_by, recorded_at FROM revieworleans_cluster_settings WHERE service_id = @service",
            connection);
        select.Parameters.AddWithValue("service", serviceId);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var recorded = new ClusterSettings(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2));
        if (recorded != this)
        {
            var differences = new List<string>();
            if (recorded.Partitions != Partitions)
            {
                differences.Add($"Pipeline:Partitions is {Partitions} here, {recorded.Partitions} in the cluster");
            }
            if (recorded.AnomalyShards != AnomalyShards)
            {
                differences.Add($"Pipeline:AnomalyShards is {AnomalyShards} here, {recorded.AnomalyShards} in the cluster");
            }
            if (recorded.StreamQueues != StreamQueues)
            {
                differences.Add($"Streams:Queues is {StreamQueues} here, {recorded.StreamQueues} in the cluster");
            }
            throw new ClusterSettingsMismatchException(
                $"service '{serviceId}' runs with other settings than this process: {string.Join("; ", differences)} " +
                $"(recorded by {reader.GetString(3)} at {reader.GetDateTime(4):u}). Every silo and gateway of a service must use the same values. " +
                $"To change them, stop the whole cluster, then run `reviewctl db forget-settings --service-id {serviceId} --connection \"<connection string>\"`.");
        }
    }

    /// <summary>Forgets the settings recorded for a service, so that the next process to start records its own.</summary>
    public static async Task<bool> ForgetAsync(string connectionString, string serviceId, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var delete = new NpgsqlCommand("DELETE FROM revieworleans_cluster_settings WHERE service_id = @service", connection);
        delete.Parameters.AddWithValue("service", serviceId);
        return await delete.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}

/// <summary>This process disagrees with its cluster on a setting that must be shared; the message names it.</summary>
public sealed class ClusterSettingsMismatchException(string message) : Exception(message);
