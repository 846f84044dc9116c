using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace ReviewOrleans.Analytics.Counting;

/// <summary>
/// Counts distinct items like KDA's <c>COUNT_DISTINCT_ITEMS_TUMBLING</c>: exactly (a set of 64-bit hashes) up to
/// <see cref="ExactLimit"/> distinct items, then with a 16 KiB UltraLogLog sketch (relative standard error about
/// 0.6%). Counters merge (the union of several producers' items) and save to a versioned binary form.
/// </summary>
/// <remarks>Not thread-safe.</remarks>
public sealed class DistinctCounter
{
    private static ReadOnlySpan<byte> Magic => "DCT1"u8;

    /// <summary>Current saved-state format version.</summary>
    public const byte StateVersion = 1;

    /// <summary>Default exact limit, KDA's 10,000.</summary>
    public const int DefaultExactLimit = 10_000;

    /// <summary>Largest exact limit accepted (the exact set costs 8+ bytes per item).</summary>
    public const int MaxExactLimit = 1_000_000;

    /// <summary>Index bits of the UltraLogLog sketch used beyond the exact limit (2^14 registers).</summary>
    public const int SketchPrecision = UltraLogLogSketch.Precision;

    /// <summary>Bytes of sketch registers (one byte each): 16 KiB.</summary>
    public const int SketchRegisterBytes = UltraLogLogSketch.RegisterCount;

    private HashSet<ulong>? _exact = [];
    private UltraLogLogSketch? _sketch;

    /// <summary>Creates an empty counter that stays exact up to <paramref name="exactLimit"/> distinct items.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit is negative or above <see cref="MaxExactLimit"/>.</exception>
    public DistinctCounter(int exactLimit = DefaultExactLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exactLimit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(exactLimit, MaxExactLimit);
        ExactLimit = exactLimit;
    }

    /// <summary>Distinct items counted exactly before the counter switches to the sketch.</summary>
    public int ExactLimit { get; }

    /// <summary>Whether <see cref="Count"/> is still exact (at most <see cref="ExactLimit"/> distinct items so far).</summary>
    public bool IsExact => _exact is not null;

    /// <summary>The distinct count: exact while <see cref="IsExact"/>, else the sketch estimate rounded.</summary>
    public long Count => _exact is { } exact ? exact.Count : (long)Math.Round(Estimate());

    /// <summary>
    /// The stable item hash: XxHash3 (64-bit, seed 0) of the item's UTF-16 little-endian code units. Hashes are
    /// saved and merged across processes, so this definition never changes.
    /// </summary>
    public static ulong Hash(ReadOnlySpan<char> item)
    {
        if (BitConverter.IsLittleEndian)
        {
            return XxHash3.HashToUInt64(MemoryMarshal.AsBytes(item));
        }
        var bytes = new byte[item.Length * 2];
        for (var i = 0; i < item.Length; i++)
        {
            bytes[2 * i] = (byte)item[i];
            bytes[2 * i + 1] = (byte)(item[i] >> 8);
        }
        return XxHash3.HashToUInt64(bytes);
    }

    /// <summary>Counts <paramref name="item"/> (ordinal: case and every code unit matter).</summary>
    public void Add(string item)
    {
        ArgumentNullException.ThrowIfNull(item);
        AddHash(Hash(item));
    }

    /// <summary>Counts <paramref name="item"/> (ordinal).</summary>
    public void Add(ReadOnlySpan<char> item) => AddHash(Hash(item));

    /// <summary>Counts an item by its <see cref="Hash"/> (or another well-mixed 64-bit hash used consistently).</summary>
    public void AddHash(ulong hash)
    {
        if (_sketch is { } sketch)
        {
            sketch.Add(hash);
            return;
        }
        var exact = _exact!;
        if (exact.Add(hash) && exact.Count > ExactLimit)
        {
            SwitchToSketch();
        }
    }

    /// <summary>The distinct count as a real number (exact while <see cref="IsExact"/>).</summary>
    public double Estimate() => _exact is { } exact ? exact.Count : _sketch!.Estimate();

    /// <summary>
    /// Adds <paramref name="other"/>'s items: afterwards this counter equals one that saw both streams (same exact
    /// set, or the same sketch registers).
    /// </summary>
    public void Merge(DistinctCounter other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(other, this))
        {
            return;
        }
        if (other._exact is { } theirs)
        {
            foreach (var hash in theirs)
            {
                AddHash(hash);
            }
            return;
        }
        if (_sketch is null)
        {
            SwitchToSketch();
        }
        _sketch!.Merge(other._sketch!);
    }

    private void SwitchToSketch()
    {
        var sketch = new UltraLogLogSketch();
        foreach (var hash in _exact!)
        {
            sketch.Add(hash);
        }
        _sketch = sketch;
        _exact = null;
    }

    /// <summary>
    /// Saves the counter: magic, version, exact limit, then either the sorted exact hashes or the sketch's
    /// precision and 16,384 register bytes. Equal contents give equal bytes.
    /// </summary>
    public byte[] ToBytes()
    {
        var writer = new Forest.StateWriter(_exact is { } e ? 16 + 8 * e.Count : 32 + UltraLogLogSketch.RegisterCount);
        writer.WriteBytes(Magic);
        writer.WriteByte(StateVersion);
        writer.WriteInt32(ExactLimit);
        if (_exact is { } exact)
        {
            writer.WriteByte(0);
            var hashes = exact.ToArray();
            Array.Sort(hashes);
            writer.WriteInt32(hashes.Length);
            foreach (var hash in hashes)
            {
                writer.WriteUInt64(hash);
            }
        }
        else
        {
            writer.WriteByte(1);
            writer.WriteByte(UltraLogLogSketch.Precision);
            writer.WriteBytes(_sketch!.Registers);
        }
        return writer.ToArray();
    }

    /// <summary>Restores a counter saved by <see cref="ToBytes"/>.</summary>
    /// <exception cref="ArgumentException">The bytes are not a counter state, have another version, or are corrupt.</exception>
    public static DistinctCounter FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new Forest.StateReader(bytes, nameof(DistinctCounter));
        reader.ReadHeader(Magic, StateVersion);
        var counter = new DistinctCounter(reader.ReadInt32(0, MaxExactLimit, "exact limit"));
        var mode = reader.ReadByte();
        if (mode == 0)
        {
            var count = reader.ReadInt32(0, counter.ExactLimit, "exact item count");
            var exact = counter._exact!;
            exact.EnsureCapacity(count);
            ulong previous = 0;
            for (var i = 0; i < count; i++)
            {
                var hash = reader.ReadUInt64();
                if (i > 0 && hash <= previous)
                {
                    throw Forest.StateReader.Corrupt("exact hashes are not strictly increasing");
                }
                exact.Add(hash);
                previous = hash;
            }
        }
        else if (mode == 1)
        {
            var precision = reader.ReadByte();
            if (precision != UltraLogLogSketch.Precision)
            {
                throw Forest.StateReader.Corrupt($"sketch precision {precision} is not {UltraLogLogSketch.Precision}");
            }
            var sketch = new UltraLogLogSketch();
            sketch.Load(reader.ReadBytes(UltraLogLogSketch.RegisterCount));
            counter._sketch = sketch;
            counter._exact = null;
        }
        else
        {
            throw Forest.StateReader.Corrupt($"counter mode {mode} is neither exact (0) nor sketch (1)");
        }
        reader.EnsureEnd();
        return counter;
    }
}
