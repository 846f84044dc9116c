using System.Buffers.Binary;
using System.Globalization;

namespace ReviewOrleans.Analytics.Forest;

/// <summary>
/// Little-endian reader for the analytics library's versioned binary states. Every read is bounds-checked and
/// every failure is an <see cref="ArgumentException"/> on the <c>bytes</c> parameter saying what was wrong.
/// </summary>
internal ref struct StateReader(ReadOnlySpan<byte> bytes, string stateName)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private readonly string _stateName = stateName;
    private int _position;

    public readonly int Remaining => _bytes.Length - _position;

    public static ArgumentException Corrupt(string problem) =>
        new($"Corrupt saved state: {problem}.", "bytes");

    /// <summary>Checks the 4-byte magic and the version byte that open every state.</summary>
    public void ReadHeader(ReadOnlySpan<byte> magic, byte supportedVersion) => ReadHeader(magic, supportedVersion, supportedVersion);

    /// <summary>Checks the magic and returns the format version, which must lie in [oldest, newest].</summary>
    public byte ReadHeader(ReadOnlySpan<byte> magic, byte oldest, byte newest)
    {
        if (_bytes.Length < magic.Length + 1 || !_bytes[..magic.Length].SequenceEqual(magic))
        {
            throw new ArgumentException($"The bytes are not a saved {_stateName} (the header does not match).", "bytes");
        }
        _position = magic.Length;
        var version = _bytes[_position++];
        if (version < oldest || version > newest)
        {
            var readable = oldest == newest ? $"version {newest}" : $"versions {oldest}–{newest}";
            throw new ArgumentException(
                $"Saved {_stateName} has format version {version}; this build reads {readable}.", "bytes");
        }
        return version;
    }

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadUInt16(int max, string what)
    {
        int value = ReadUInt16();
        return value <= max ? value : throw Corrupt($"{what} {value} is above {max}");
    }

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public int ReadInt32(int min, int max, string what)
    {
        var value = ReadInt32();
        return value >= min && value <= max ? value : throw Corrupt($"{what} {value} is outside [{min}, {max}]");
    }

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>A float that must be finite: a NaN coordinate or cut would send descents round a leaf forever.</summary>
    public float ReadFiniteSingle(string what)
    {
        var value = ReadSingle();
        return float.IsFinite(value) ? value : throw Corrupt($"{what} is {value.ToString(CultureInfo.InvariantCulture)}, not a finite number");
    }

    /// <summary>A double that must be finite (NaN passes every ordering check silently).</summary>
    public double ReadFiniteDouble(string what)
    {
        var value = ReadDouble();
        return double.IsFinite(value) ? value : throw Corrupt($"{what} is {value.ToString(CultureInfo.InvariantCulture)}, not a finite number");
    }

    public ReadOnlySpan<byte> ReadBytes(int count) => Take(count);

    /// <summary>Fails unless every byte was consumed, so trailing garbage is not silently accepted.</summary>
    public readonly void EnsureEnd()
    {
        if (_position != _bytes.Length)
        {
            throw Corrupt($"{_bytes.Length - _position} unexpected trailing bytes");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _position + count > _bytes.Length)
        {
            throw new ArgumentException($"Saved {_stateName} is truncated at byte {_position} of {_bytes.Length}.", "bytes");
        }
        var span = _bytes.Slice(_position, count);
        _position += count;
        return span;
    }
}
