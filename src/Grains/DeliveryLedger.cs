using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>
/// A receiver's record of the last delivery it applied from each activation of each sender (<see cref="DeliveryToken"/>),
/// kept in the receiver's persisted state so that it is saved together with what it guards. A sender activation
/// delivers to one receiver in sequence order and re-sends a failed delivery before any newer one, so "this sequence
/// or an older one was applied" is all a receiver needs per activation. Marks of the latest
/// <see cref="EpochsPerSender"/> activations are kept: a late call from a partition's previous activation (it may
/// still be in flight while the next one starts) then updates its own mark instead of displacing the new one's.
/// </summary>
[GenerateSerializer, Alias("delivery-ledger.v1")]
public sealed class DeliveryLedger
{
    public const int EpochsPerSender = 4;

    /// <summary>Per sender, its activations' marks, oldest first.</summary>
    [Id(0)] public Dictionary<long, List<DeliveryMark>> LastApplied { get; set; } = [];

    /// <summary>Whether the delivery was applied already: a mark of the same activation with this sequence or newer.</summary>
    public bool WasApplied(DeliveryToken token)
    {
        if (!token.IsSequenced || !LastApplied.TryGetValue(token.Sender, out var marks))
        {
            return false;
        }
        var mark = marks.FindIndex(m => m.Epoch == token.Epoch);
        return mark >= 0 && token.Sequence <= marks[mark].Sequence;
    }

    /// <summary>Records the delivery as applied; a sender's fifth activation displaces the oldest one's mark.</summary>
    public void MarkApplied(DeliveryToken token)
    {
        if (!token.IsSequenced)
        {
            return;
        }
        if (!LastApplied.TryGetValue(token.Sender, out var marks))
        {
            marks = [];
            LastApplied[token.Sender] = marks;
        }
        var mark = new DeliveryMark(token.Epoch, token.Sequence);
        var existing = marks.FindIndex(m => m.Epoch == token.Epoch);
        if (existing >= 0)
        {
            marks[existing] = mark;
            return;
        }
        if (marks.Count == EpochsPerSender)
        {
            marks.RemoveAt(0);
        }
        marks.Add(mark);
    }
}

[GenerateSerializer, Alias("delivery-mark.v1"), Immutable]
public readonly record struct DeliveryMark([property: Id(0)] long Epoch, [property: Id(1)] long Sequence);
