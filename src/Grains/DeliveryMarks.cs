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

    /// <summary>Taken just before a state write; pass it to <see cref="Saved"/> once the write succeeded.</summary>
    public Dictionary<long, long> BeforeSave() => new(Applied);

    public void Saved(Dictionary<long, long> written) => _durable = written;

    /// <summary>Whether to apply a delivery, and the receipt when not.</summary>
    public DeliveryCheck Check(LogRange range)
    {
        if (!range.IsSequenced)
        {
            return DeliveryCheck.Apply;
        }
        var applied = Applied.GetValueOrDefault(range.Partition);
        if (range.To <= applied)
        {
            return DeliveryCheck.AlreadyApplied; // a retried call, a replay, or only a question for the marks
        }
        // Applying rows that do not start where this receiver stands would skip rows or apply some twice.
        return range.From == applied ? DeliveryCheck.Apply : DeliveryCheck.Refuse;
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

public enum DeliveryCheck
{
    Apply,
    AlreadyApplied,
    Refuse,
}
