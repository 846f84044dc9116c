using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Grains;

namespace ReviewOrleans.Platform.Tests;

public sealed class DeliveryLedgerTests
{
    private static bool Apply(DeliveryLedger ledger, DeliveryToken token)
    {
        if (ledger.WasApplied(token))
        {
            return false;
        }
        ledger.MarkApplied(token);
        return true;
    }

    [Fact]
    public void Sequences_RepeatOrOlderIgnored_NewerApplied()
    {
        var ledger = new DeliveryLedger();
        Assert.True(Apply(ledger, new(1, 10, 1)));
        Assert.False(Apply(ledger, new(1, 10, 1)));
        Assert.True(Apply(ledger, new(1, 10, 2)));
        Assert.False(Apply(ledger, new(1, 10, 1))); // k after k+1
        Assert.True(Apply(ledger, new(2, 10, 1))); // another sender, same numbers
        Assert.True(Apply(ledger, new(1, 10, 5))); // gaps are fine: sequences are shared across receivers
    }

    [Fact]
    public void Unsequenced_AlwaysAppliedNeverRecorded()
    {
        var ledger = new DeliveryLedger();
        Assert.True(Apply(ledger, DeliveryToken.Unsequenced));
        Assert.True(Apply(ledger, DeliveryToken.Unsequenced));
        Assert.Empty(ledger.LastApplied);
    }

    [Fact]
    public void Epochs_LateCallOfThePreviousActivation_DoesNotDisplaceTheNewOnesMark()
    {
        var ledger = new DeliveryLedger();
        Assert.True(Apply(ledger, new(1, 100, 1)));
        Assert.True(Apply(ledger, new(1, 200, 1))); // the partition re-activated
        Assert.True(Apply(ledger, new(1, 100, 2))); // a call of the old activation still in flight: new to us
        Assert.False(Apply(ledger, new(1, 200, 1))); // the new activation re-sends its last delivery: still known
        Assert.False(Apply(ledger, new(1, 100, 2)));
        Assert.True(Apply(ledger, new(1, 200, 2)));
    }

    [Fact]
    public void Epochs_BeyondTheKeptNumber_OldestForgotten()
    {
        var ledger = new DeliveryLedger();
        for (var epoch = 1; epoch <= DeliveryLedger.EpochsPerSender + 1; epoch++)
        {
            Assert.True(Apply(ledger, new(1, epoch, 3)));
        }
        Assert.Equal(DeliveryLedger.EpochsPerSender, ledger.LastApplied[1].Count);
        Assert.True(Apply(ledger, new(1, 1, 3))); // forgotten: taken as new
        Assert.False(Apply(ledger, new(1, DeliveryLedger.EpochsPerSender + 1, 3)));
    }
}
