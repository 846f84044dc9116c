namespace ReviewOrleans.Contracts.Grains;

/// <summary>
/// Names one delivery from a partition grain to a receiver that adds it up (windows, counts, a forest), so that a
/// delivery sent again after a call failed — possibly after the receiver had applied it — is applied once.
/// </summary>
/// <param name="Sender">The sending partition.</param>
/// <param name="Epoch">Random per activation of the sender: sequences restart with each activation.</param>
/// <param name="Sequence">Increases from 1 with each new delivery of the activation; a re-sent delivery keeps its own.</param>
[GenerateSerializer, Alias("delivery-token.v1"), Immutable]
public readonly record struct DeliveryToken(
    [property: Id(0)] long Sender,
    [property: Id(1)] long Epoch,
    [property: Id(2)] long Sequence)
{
    /// <summary>For a sender that never re-sends (the gateway's rejection counts): always applied, never recorded.</summary>
    public static DeliveryToken Unsequenced => default;

    public bool IsSequenced => Sequence > 0;
}
