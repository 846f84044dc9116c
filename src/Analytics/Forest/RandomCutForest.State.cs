namespace ReviewOrleans.Analytics.Forest;

public sealed partial class RandomCutForest
{
    private static ReadOnlySpan<byte> Magic => "RCF1"u8;

    /// <summary>
    /// Current saved-state format version. Version 2 added each sampler's next admission; <see cref="FromBytes"/>
    /// also reads version 1, drawing those admissions afresh (same sampling law, another random stream).
    /// </summary>
    public const byte StateVersion = 2;

    private const byte OldestStateVersion = 1;

    /// <summary>
    /// Saves the whole model (options, shingle, each tree's random state, sample and structure) in a compact,
    /// versioned little-endian format. <c>FromBytes(ToBytes())</c> continues the stream with identical scores.
    /// </summary>
    public byte[] ToBytes()
    {
        var writer = new StateWriter(_trees.Length * Options.SampleSize * (24 + 8 * _treeDims) + 256);
        writer.WriteBytes(Magic);
        writer.WriteByte(StateVersion);
        writer.WriteInt32(Options.Dimensions);
        writer.WriteInt32(Options.NumberOfTrees);
        writer.WriteInt32(Options.SampleSize);
        writer.WriteDouble(Options.TimeDecay);
        writer.WriteInt32(Options.ShingleSize);
        writer.WriteInt32(Options.OutputAfter ?? -1);
        writer.WriteInt64(Options.Seed);
        writer.WriteInt64(PointsSeen);
        writer.WriteInt64(_inserted);
        writer.WriteInt32(_shingleFill);
        foreach (var v in _shingle)
        {
            writer.WriteSingle(v);
        }
        for (var t = 0; t < _trees.Length; t++)
        {
            writer.WriteUInt64(_random[t].State);
            _samplers[t].Write(ref writer);
            _trees[t].Write(ref writer);
        }
        return writer.ToArray();
    }

    /// <summary>Restores a forest saved by <see cref="ToBytes"/>.</summary>
    /// <exception cref="ArgumentException">The bytes are not a forest state, have another version, or are corrupt.</exception>
    public static RandomCutForest FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new StateReader(bytes, nameof(RandomCutForest));
        var version = reader.ReadHeader(Magic, OldestStateVersion, StateVersion);
        var outputAfter = 0;
        RandomCutForestOptions options;
        try
        {
            options = new RandomCutForestOptions
            {
                Dimensions = reader.ReadInt32(),
                NumberOfTrees = reader.ReadInt32(),
                SampleSize = reader.ReadInt32(),
                TimeDecay = reader.ReadDouble(),
                ShingleSize = reader.ReadInt32(),
                OutputAfter = (outputAfter = reader.ReadInt32()) < 0 ? null : outputAfter,
                Seed = reader.ReadInt64(),
            };
            options.Validate();
        }
        catch (ArgumentException ex) when (ex.ParamName != "bytes")
        {
            throw StateReader.Corrupt("saved options are invalid: " + ex.Message);
        }

        var forest = new RandomCutForest(options)
        {
            PointsSeen = reader.ReadInt64(),
        };
        forest._inserted = reader.ReadInt64();
        // Version 1 kept a rebasing point for the samplers' decay factor, which the skip-ahead samplers do not need.
        var reference = version == 1 ? reader.ReadInt64() : 0;
        forest._shingleFill = reader.ReadInt32(0, options.ShingleSize, "shingle fill");
        if (forest.PointsSeen < 0 || forest._inserted < 0 || forest._inserted > forest.PointsSeen
            || reference < 0 || reference > forest._inserted)
        {
            throw StateReader.Corrupt("stream counters are inconsistent");
        }
        for (var i = 0; i < forest._shingle.Length; i++)
        {
            forest._shingle[i] = reader.ReadFiniteSingle("shingle value");
        }
        for (var t = 0; t < forest._trees.Length; t++)
        {
            forest._random[t] = new SplitMix64(reader.ReadUInt64());
            forest._samplers[t].Read(ref reader, withAdmission: version >= 2, forest._inserted);
            forest._trees[t].Read(ref reader);
            if (forest._trees[t].Mass != forest._samplers[t].Size)
            {
                throw StateReader.Corrupt($"tree {t} holds {forest._trees[t].Mass} points but its sample has {forest._samplers[t].Size}");
            }
            forest._trees[t].CheckSample(forest._samplers[t].Leaves);
        }
        reader.EnsureEnd();
        return forest;
    }
}
