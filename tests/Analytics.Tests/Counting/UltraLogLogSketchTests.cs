using ReviewOrleans.Analytics.Counting;

namespace ReviewOrleans.Analytics.Tests.Counting;

public sealed class UltraLogLogSketchTests
{
    /// <summary>A hash for register <paramref name="index"/> whose update value (1 + leading zeros below the index) is <paramref name="value"/>.</summary>
    private static ulong HashFor(int index, int value) =>
        ((ulong)index << 50) | (value <= 50 ? 1UL << (50 - value) : 0);

    [Theory]
    [InlineData(new[] { 5 }, 5 << 2)]                 // u = 5, neither u-1 nor u-2 seen
    [InlineData(new[] { 5, 4 }, (5 << 2) | 2)]        // u-1 seen
    [InlineData(new[] { 5, 3 }, (5 << 2) | 1)]        // u-2 seen
    [InlineData(new[] { 3, 5, 4 }, (5 << 2) | 3)]     // both, in any order
    [InlineData(new[] { 5, 2 }, 5 << 2)]              // u-3 is below the window: dropped
    [InlineData(new[] { 4, 6 }, (6 << 2) | 1)]        // a new maximum shifts the window
    [InlineData(new[] { 1 }, 1 << 2)]                 // smallest value
    [InlineData(new[] { 51, 50 }, (51 << 2) | 2)]     // all-zero bits below the index: the cap, 64 - 14 + 1
    public void Add_UpdateValues_GiveDocumentedRegister(int[] values, int expected)
    {
        var sketch = new UltraLogLogSketch();
        foreach (var v in values)
        {
            sketch.Add(HashFor(123, v));
        }
        Assert.Equal(expected, sketch.Registers[123]);
        Assert.Equal(0, sketch.Registers[122]);
    }

    [Fact]
    public void Estimate_Empty_IsZero_AndSmallCountsAreClose()
    {
        var sketch = new UltraLogLogSketch();
        Assert.Equal(0, sketch.Estimate());
        var state = 99UL;
        for (var i = 0; i < 1_000; i++)
        {
            state = state * 6364136223846793005UL + 1442695040888963407UL;
            sketch.Add(state ^ (state >> 29) * 0xBF58476D1CE4E5B9UL);
        }
        Assert.InRange(sketch.Estimate(), 950, 1_050);
    }

    [Fact]
    public void Load_InvalidRegister_Throws()
    {
        var registers = new byte[UltraLogLogSketch.RegisterCount];
        registers[7] = (1 << 2) | 1; // u = 1 cannot have seen value -1
        Assert.Throws<ArgumentException>(() => new UltraLogLogSketch().Load(registers));
        registers[7] = (2 << 2) | 2; // u = 2 with value 1 seen is valid
        new UltraLogLogSketch().Load(registers);
    }
}
