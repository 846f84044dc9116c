using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>
/// A receiver's marks of what it applied from each partition's log (<see cref="LogRange"/>): the sequence it
/// applied through, saved in its persisted state together with what the rows went into, and the sequence its last
/// successful write covers. A crash rolls the applied marks back to the saved ones, with the state they describe, and
/// the partition, told so by a refusal, re-sends the rows after them from its log.
/// </summary>
[GenerateSerializer, Alias("delivery-marks.v1")]
public sealed class DeliveryMarks
{
    /// <summary>Per partition, the log sequence applied through.</summary>
    [Id(0)] public Dictionary<long, long> Applied { get; set; } = [];

    /// <summary>What the last successful state write covers; not persisted (it is what was persisted).</summary>
    [NonSerialized] private Dictionary<long, long> _durable = [];

    /// <summary>After the state was read: what it holds is durable by definition.</summary>
    public void Loaded() => _durable = new(Applied);

    /// <summary>Runs the state write that saves these marks; once it succeeded, what they held before it is durable.</summary>
    public async Task SaveAsync(Func<Task> writeState)
    {
        var written = new Dictionary<long, long>(Applied);
        await writeState();
        _durable = written;
    }

    /// <summary>
    /// Whether to apply a delivery. When not, <paramref name="answer"/> is the receipt to return: accepted for rows
    /// already applied (a retried call, a replay, or only a question for the marks), refused with the mark for a
    /// range that does not start where this receiver stands, since applying it would skip rows or apply some twice.
    /// </summary>
    public bool ShouldApply(LogRange range, out DeliveryReceipt answer)
    {
        answer = default;
        if (!range.IsSequenced)
        {
            return true;
        }
        var applied = Applied.GetValueOrDefault(range.Partition);
        if (range.To > applied && range.From == applied)
        {
            return true;
        }
        answer = Receipt(range, accepted: range.To <= applied);
        return false;
    }

    public void MarkApplied(LogRange range)
    {
        if (range.IsSequenced)
        {
            Applied[range.Partition] = range.To;
        }
    }

    public DeliveryReceipt Receipt(LogRange range, bool accepted = true) => range.IsSequenced
        ? new(accepted, Applied.GetValueOrDefault(range.Partition), _durable.GetValueOrDefault(range.Partition))
        : new(accepted, 0, 0);
}
