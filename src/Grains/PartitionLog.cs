namespace ReviewOrleans.Grains;

/// <summary>
/// A partition grain's durable log. Per stream batch it appends, before the batch's stream message counts as
/// handled, one row that holds the accepted review-id hashes (for de-duplication across restarts, kept for
/// <see cref="PipelineOptions.DedupHorizon"/>) and one that holds the batch's effects on the receivers (kept until
/// every receiver with a part in it has saved that part). Sequences start at 1 and never repeat for a partition: the
/// primary key fences out a second activation of the same partition that appends concurrently during a failover.
/// </summary>
public interface IPartitionLog
{
    /// <summary>What a new activation recovers: the head sequence, recent ids and the effect rows not yet forgotten.</summary>
    /// <param name="maxIds">At most this many of the newest ids are returned (the de-duplication capacity).</param>
    Task<PartitionLogRecovery> RecoverAsync(int partition, long idsSinceMs, int maxIds, CancellationToken cancellationToken = default);

    /// <summary>Appends a batch's rows under <paramref name="sequence"/> in one transaction; the log keeps the arrays as they are.</summary>
    /// <exception cref="PartitionLogConflictException">The sequence exists: another activation appended it.</exception>
    Task AppendAsync(int partition, long sequence, long atMs, byte[] idHashes, byte[] effects,
        CancellationToken cancellationToken = default);

    /// <summary>Effect rows after <paramref name="afterSequence"/> up to <paramref name="throughSequence"/>, oldest first, at most <paramref name="maxRows"/>.</summary>
    Task<IReadOnlyList<PartitionLogRow>> ReadEffectsAsync(int partition, long afterSequence, long throughSequence, int maxRows,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Forgets effect rows through <paramref name="effectsThrough"/>, and id rows older than <paramref name="idsBeforeMs"/>
    /// except the one at <paramref name="headSequence"/> (it carries the sequence on across an idle horizon).
    /// </summary>
    Task TruncateAsync(int partition, long effectsThrough, long idsBeforeMs, long headSequence, CancellationToken cancellationToken = default);
}

public sealed record PartitionLogRow(long Sequence, byte[] Body);

/// <param name="Head">The highest sequence appended (0 for a partition never logged).</param>
/// <param name="Ids">Id rows (their time and hashes), oldest first.</param>
/// <param name="Effects">Effect rows not yet forgotten, oldest first.</param>
public sealed record PartitionLogRecovery(long Head, IReadOnlyList<(long AtMs, byte[] IdHashes)> Ids, IReadOnlyList<PartitionLogRow> Effects);

/// <summary>Another activation of the partition appended the sequence first; this one is stale and must not go on.</summary>
public sealed class PartitionLogConflictException(int partition, long sequence, Exception? inner = null)
    : Exception($"partition {partition}: log sequence {sequence} was already appended by another activation", inner);

/// <summary>
/// The log of the in-memory profile (Storage:Provider=memory): it outlives grain activations, so a partition that is
/// deactivated or migrated recovers from it, but not the process, like the memory grain storage beside it.
/// </summary>
public sealed class MemoryPartitionLog : IPartitionLog
{
    private sealed class Partition
    {
        public readonly SortedList<long, (long AtMs, byte[] Ids)> Ids = [];
        public readonly SortedList<long, byte[]> Effects = [];
    }

    private readonly Dictionary<int, Partition> _partitions = [];

    private Partition Of(int partition)
    {
        if (!_partitions.TryGetValue(partition, out var p))
        {
            p = new Partition();
            _partitions[partition] = p;
        }
        return p;
    }

    public Task<PartitionLogRecovery> RecoverAsync(int partition, long idsSinceMs, int maxIds, CancellationToken cancellationToken = default)
    {
        lock (_partitions)
        {
            var p = Of(partition);
            var head = Math.Max(p.Ids.Count > 0 ? p.Ids.Keys[^1] : 0, p.Effects.Count > 0 ? p.Effects.Keys[^1] : 0);
            var ids = new List<(long, byte[])>();
            var taken = 0;
            for (var i = p.Ids.Count - 1; i >= 0 && taken < maxIds; i--)
            {
                var (at, hashes) = p.Ids.Values[i];
                if (at < idsSinceMs)
                {
                    break;
                }
                ids.Add((at, hashes));
                taken += hashes.Length / sizeof(ulong);
            }
            ids.Reverse();
            var effects = p.Effects.Select(e => new PartitionLogRow(e.Key, e.Value)).ToList();
            return Task.FromResult(new PartitionLogRecovery(head, ids, effects));
        }
    }

    public Task AppendAsync(int partition, long sequence, long atMs, byte[] idHashes, byte[] effects,
        CancellationToken cancellationToken = default)
    {
        lock (_partitions)
        {
            var p = Of(partition);
            if (p.Ids.ContainsKey(sequence) || p.Effects.ContainsKey(sequence))
            {
                return Task.FromException(new PartitionLogConflictException(partition, sequence));
            }
            p.Ids.Add(sequence, (atMs, idHashes));
            p.Effects.Add(sequence, effects);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PartitionLogRow>> ReadEffectsAsync(int partition, long afterSequence, long throughSequence, int maxRows,
        CancellationToken cancellationToken = default)
    {
        lock (_partitions)
        {
            IReadOnlyList<PartitionLogRow> rows = Of(partition).Effects
                .Where(e => e.Key > afterSequence && e.Key <= throughSequence)
                .Take(maxRows)
                .Select(e => new PartitionLogRow(e.Key, e.Value))
                .ToList();
            return Task.FromResult(rows);
        }
    }

    public Task TruncateAsync(int partition, long effectsThrough, long idsBeforeMs, long headSequence, CancellationToken cancellationToken = default)
    {
        lock (_partitions)
        {
            var p = Of(partition);
            while (p.Effects.Count > 0 && p.Effects.Keys[0] <= effectsThrough)
            {
                p.Effects.RemoveAt(0);
            }
            while (p.Ids.Count > 0 && p.Ids.Values[0].AtMs < idsBeforeMs && p.Ids.Keys[0] != headSequence)
            {
                p.Ids.RemoveAt(0);
            }
        }
        return Task.CompletedTask;
    }
}
