using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Grains;

/// <summary>
/// A receiver's record of the last delivery it applied from each sender (<see cref="DeliveryToken"/>), kept in the
/// receiver's persisted state so that it is saved together with what it guards. A sender delivers to one receiver
/// in sequence order and re-sends a failed delivery before any newer one, so "this sequence or an older one was
/// applied" is all a receiver needs to know.
/// </summary>
[GenerateSerializer, Alias("delivery-ledger.v1")]
public sealed class DeliveryLedger
{
    [Id(0)] public Dictionary<long, DeliveryMark> LastApplied { get; set; } = [];

    /// <summary>Whether the delivery was applied already: same activation of the sender, no newer sequence.</summary>
    public bool WasApplied(DeliveryToken token) =>
        token.IsSequenced && LastApplied.TryGetValue(token.Sender, out var mark) && mark.Epoch == token.Epoch && token.Sequence <= mark.Sequence;

    /// <summary>Records the delivery as applied; a new epoch of the sender replaces the old one's mark.</summary>
    public void MarkApplied(DeliveryToken token)
    {
        if (token.IsSequenced)
        {
            LastApplied[token.Sender] = new DeliveryMark(token.Epoch, token.Sequence);
        }
    }
}

[GenerateSerializer, Alias("delivery-mark.v1"), Immutable]
public readonly record struct DeliveryMark([property: Id(0)] long Epoch, [property: Id(1)] long Sequence);
