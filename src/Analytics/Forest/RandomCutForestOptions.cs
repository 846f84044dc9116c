namespace ReviewOrleans.Analytics.Forest;

/// <summary>
/// Parameters of a <see cref="RandomCutForest"/>. Names and defaults follow the AWS random-cut-forest-by-aws
/// Java core 4.x builder (<c>RandomCutForest.Builder</c>) and Kinesis Data Analytics' <c>RANDOM_CUT_FOREST</c>.
/// </summary>
public sealed record RandomCutForestOptions
{
    /// <summary>Largest sample size accepted; node references are stored in 16 bits in the saved state.</summary>
    public const int MaxSampleSize = 16_384;

    /// <summary>Number of values in each input record (before shingling). Default 1.</summary>
    public int Dimensions { get; init; } = 1;

    /// <summary>Number of trees; the score is their average. Default 100.</summary>
    public int NumberOfTrees { get; init; } = 100;

    /// <summary>Points kept by each tree's time-decayed reservoir sample. Default 256.</summary>
    public int SampleSize { get; init; } = 256;

    /// <summary>
    /// Decay rate lambda of the reservoir sample: a point's sampling weight falls by <c>exp(-lambda)</c> per later
    /// point. Default 1/100000 (KDA's "timeDecay 100000 records"). 0 gives a uniform sample of the whole stream.
    /// </summary>
    public double TimeDecay { get; init; } = 1.0 / 100_000;

    /// <summary>
    /// Number of consecutive records joined into one tree point. When greater than 1 the forest keeps the shingle
    /// itself, so callers always pass <see cref="Dimensions"/> values per record. Default 1.
    /// </summary>
    public int ShingleSize { get; init; } = 1;

    /// <summary>Points the forest must have taken in before it outputs non-zero scores; null means SampleSize/4.</summary>
    public int? OutputAfter { get; init; }

    /// <summary>Seed of every random choice; equal seeds and inputs give equal scores and saved bytes. Default 42.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Dimensions of a tree point: <see cref="Dimensions"/> × <see cref="ShingleSize"/>.</summary>
    public int TreeDimensions => Dimensions * ShingleSize;

    /// <summary>The effective output-after value.</summary>
    public int EffectiveOutputAfter => OutputAfter ?? Math.Max(1, SampleSize / 4);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property that is out of range.</summary>
    public void Validate()
    {
        if (Dimensions < 1)
        {
            throw new ArgumentException($"Dimensions must be at least 1 (was {Dimensions}).", nameof(Dimensions));
        }
        if (NumberOfTrees < 1 || NumberOfTrees > 10_000)
        {
            throw new ArgumentException($"NumberOfTrees must be between 1 and 10000 (was {NumberOfTrees}).", nameof(NumberOfTrees));
        }
        if (SampleSize < 2 || SampleSize > MaxSampleSize)
        {
            throw new ArgumentException($"SampleSize must be between 2 and {MaxSampleSize} (was {SampleSize}).", nameof(SampleSize));
        }
        if (!double.IsFinite(TimeDecay) || TimeDecay < 0 || TimeDecay > 1)
        {
            throw new ArgumentException($"TimeDecay must be a finite number in [0, 1] (was {TimeDecay}).", nameof(TimeDecay));
        }
        if (ShingleSize < 1 || ShingleSize > 1_000)
        {
            throw new ArgumentException($"ShingleSize must be between 1 and 1000 (was {ShingleSize}).", nameof(ShingleSize));
        }
        if ((long)Dimensions * ShingleSize > 10_000)
        {
            throw new ArgumentException($"Dimensions × ShingleSize must be at most 10000 (was {(long)Dimensions * ShingleSize}).", nameof(ShingleSize));
        }
        // Node records of all trees share one array: (SampleSize − 1) · (4 + 2·TreeDimensions, rounded up to a power
        // of two) words per tree.
        if ((long)NumberOfTrees * SampleSize * (4 + 4L * TreeDimensions) > int.MaxValue)
        {
            throw new ArgumentException(
                $"NumberOfTrees × SampleSize × dimensions is too large for one forest ({NumberOfTrees} trees of {SampleSize} points with {TreeDimensions} values).",
                nameof(NumberOfTrees));
        }
        if (OutputAfter is < 0)
        {
            throw new ArgumentException($"OutputAfter must not be negative (was {OutputAfter}).", nameof(OutputAfter));
        }
    }
}
