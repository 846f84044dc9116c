namespace ReviewOrleans.Contracts.Grains;

/// <summary>
/// What a delivery from a partition grain to a receiver that adds things up (windows, counts, a forest) covers: the
/// receiver's share of the partition's durable log rows (<see cref="From"/>, <see cref="To"/>]. Sequences are those
/// of the partition's log, so they continue across activations and crashes: a receiver that keeps, per partition,
/// the sequence it applied through (saved with the state it guards) applies each row once, whether the delivery is a
/// call retried after a failure or a batch replayed from the log after a crash.
/// </summary>
/// <param name="Partition">The sending partition.</param>
/// <param name="From">The sequence the sender believes the receiver applied through; the delivery starts after it.</param>
/// <param name="To">The last log row the delivery covers (equal to <paramref name="From"/>: nothing, only a question for the receiver's marks).</param>
[GenerateSerializer, Alias("log-range.v1"), Immutable]
public readonly record struct LogRange(
    [property: Id(0)] long Partition,
    [property: Id(1)] long From,
    [property: Id(2)] long To)
{
    /// <summary>For a sender without a log (the gateway's rejection counts): always applied, never recorded.</summary>
    public static LogRange Unsequenced => new(-1, 0, 0);

    public bool IsSequenced => Partition >= 0;
}

/// <summary>A receiver's answer to a <see cref="LogRange"/> delivery.</summary>
/// <param name="Accepted">
/// False when the delivery did not start where the receiver stands (it lost unsaved state in a crash, or the sender
/// lost track): nothing was applied, and the sender re-sends from <paramref name="AppliedThrough"/>.
/// </param>
/// <param name="AppliedThrough">The partition's log sequence the receiver has applied through, in memory.</param>
/// <param name="DurableThrough">The sequence its last successful state write covers; the sender may forget rows up to it.</param>
[GenerateSerializer, Alias("delivery-receipt.v1"), Immutable]
public readonly record struct DeliveryReceipt(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] long AppliedThrough,
    [property: Id(2)] long DurableThrough);
