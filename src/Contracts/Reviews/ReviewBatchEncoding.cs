using System.Buffers;
using System.Text;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>
/// The byte format of a <see cref="ReviewBatch"/>. Version byte 1, the review count (varint), then per review its
/// length in bytes (varint), a mask of the fields present (varint; bit i = the field with <c>[Id(i)]</c> in
/// <see cref="ReviewMessage"/>) and those fields in id order: strings as a varint UTF-8 byte length and the bytes,
/// integers zigzag varints, booleans one byte. A reader skips whatever follows the fields it knows within a review,
/// so a later version can append fields (higher mask bits) and older silos still read the batch.
/// </summary>
public static class ReviewBatchEncoding
{
    public const byte Version = 1;

    /// <summary>Encodes <paramref name="reviews"/> into one exactly sized array.</summary>
    public static byte[] Encode(IReadOnlyList<ReviewMessage> reviews)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        var size = 1 + VarintSize((uint)reviews.Count);
        Span<int> lengths = reviews.Count <= 1024 ? stackalloc int[reviews.Count] : new int[reviews.Count];
        for (var i = 0; i < reviews.Count; i++)
        {
            var review = reviews[i] ?? throw new ArgumentException($"review {i} is null", nameof(reviews));
            if (review.ReviewId is null || review.ProductCategory is null || review.ReviewBody is null)
            {
                throw new ArgumentException($"review {i} has a null review_id, product_category or review_body", nameof(reviews));
            }
            var length = BodySize(review);
            lengths[i] = length;
            size += VarintSize((uint)length) + length;
        }
        var payload = new byte[size];
        var writer = new SpanWriter(payload);
        writer.Byte(Version);
        writer.Varint((uint)reviews.Count);
        for (var i = 0; i < reviews.Count; i++)
        {
            writer.Varint((uint)lengths[i]);
            WriteBody(ref writer, reviews[i]);
        }
        return payload;
    }

    /// <summary>
    /// How many of <paramref name="reviews"/>, from <paramref name="start"/> on, fit one payload of at most
    /// <paramref name="maxPayloadBytes"/>; at least one, so that any review can be sent.
    /// </summary>
    public static int CountThatFit(IReadOnlyList<ReviewMessage> reviews, int start, int maxPayloadBytes)
    {
        var size = 1 + VarintSize((uint)(reviews.Count - start)); // version and an upper bound of the count's varint
        var count = 0;
        for (var i = start; i < reviews.Count; i++)
        {
            var length = BodySize(reviews[i]);
            size += VarintSize((uint)length) + length;
            if (size > maxPayloadBytes && count > 0)
            {
                break;
            }
            count++;
        }
        return count;
    }

    /// <summary>Decodes a payload written by <see cref="Encode"/>.</summary>
    /// <exception cref="InvalidDataException">The payload is truncated, has another version or a field overruns its review.</exception>
    public static ReviewMessage[] Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var version = reader.Byte(new Site("version"));
        if (version != Version)
        {
            throw new InvalidDataException($"review batch: format version {version} is not supported (this silo reads version {Version})");
        }
        var count = reader.Varint(new Site("review count"));
        if (count > (uint)payload.Length)
        {
            throw new InvalidDataException($"review batch: {count} reviews cannot fit in {payload.Length} bytes");
        }
        var reviews = new ReviewMessage[count];
        for (var i = 0; i < reviews.Length; i++)
        {
            var length = reader.Varint(new Site("length of review", Review: i));
            var body = reader.Bytes(length, new Site("review", Review: i));
            reviews[i] = ReadBody(body, i);
        }
        if (!reader.AtEnd)
        {
            throw new InvalidDataException($"review batch: {payload.Length - reader.Position} bytes after the last of {count} reviews");
        }
        return reviews;
    }

    private static uint Mask(ReviewMessage r)
    {
        uint mask = 1u << 2 | 1u << 6 | 1u << 13 | 1u << 17; // review_id, product_category, review_body, ingest time
        mask |= r.Marketplace is null ? 0 : 1u << 0;
        mask |= r.CustomerId is null ? 0 : 1u << 1;
        mask |= r.ProductId is null ? 0 : 1u << 3;
        mask |= r.ProductParent is null ? 0 : 1u << 4;
        mask |= r.ProductTitle is null ? 0 : 1u << 5;
        mask |= r.StarRating is null ? 0 : 1u << 7;
        mask |= r.HelpfulVotes is null ? 0 : 1u << 8;
        mask |= r.TotalVotes is null ? 0 : 1u << 9;
        mask |= r.Vine is null ? 0 : 1u << 10;
        mask |= r.VerifiedPurchase is null ? 0 : 1u << 11;
        mask |= r.ReviewHeadline is null ? 0 : 1u << 12;
        mask |= r.ReviewDate is null ? 0 : 1u << 14;
        mask |= r.Source is null ? 0 : 1u << 15;
        mask |= r.EventTimeMs is null ? 0 : 1u << 16;
        return mask;
    }

    private static int BodySize(ReviewMessage r)
    {
        var mask = Mask(r);
        return VarintSize(mask)
            + StringSize(r.Marketplace) + StringSize(r.CustomerId) + StringSize(r.ReviewId) + StringSize(r.ProductId)
            + StringSize(r.ProductParent) + StringSize(r.ProductTitle) + StringSize(r.ProductCategory)
            + IntSize(r.StarRating) + IntSize(r.HelpfulVotes) + IntSize(r.TotalVotes)
            + (r.Vine is null ? 0 : 1) + (r.VerifiedPurchase is null ? 0 : 1)
            + StringSize(r.ReviewHeadline) + StringSize(r.ReviewBody) + StringSize(r.ReviewDate) + StringSize(r.Source)
            + (r.EventTimeMs is { } e ? VarintSize(ZigZag(e)) : 0) + VarintSize(ZigZag(r.IngestedAtMs));
    }

    private static void WriteBody(ref SpanWriter w, ReviewMessage r)
    {
        w.Varint(Mask(r));
        w.OptionalString(r.Marketplace);
        w.OptionalString(r.CustomerId);
        w.String(r.ReviewId);
        w.OptionalString(r.ProductId);
        w.OptionalString(r.ProductParent);
        w.OptionalString(r.ProductTitle);
        w.String(r.ProductCategory);
        w.OptionalInt(r.StarRating);
        w.OptionalInt(r.HelpfulVotes);
        w.OptionalInt(r.TotalVotes);
        w.OptionalBool(r.Vine);
        w.OptionalBool(r.VerifiedPurchase);
        w.OptionalString(r.ReviewHeadline);
        w.String(r.ReviewBody);
        w.OptionalString(r.ReviewDate);
        w.OptionalString(r.Source);
        if (r.EventTimeMs is { } eventTime)
        {
            w.Varint(ZigZag(eventTime));
        }
        w.Varint(ZigZag(r.IngestedAtMs));
    }

    private static ReviewMessage ReadBody(ReadOnlySpan<byte> body, int index)
    {
        var reader = new SpanReader(body);
        var mask = reader.Varint64(new Site("field mask of review", Review: index));
        bool Has(int field) => (mask & (1UL << field)) != 0;
        string? Str(ref SpanReader rd, int field) => Has(field) ? rd.String(new Site("field", field, index)) : null;
        int? Int(ref SpanReader rd, int field)
        {
            if (!Has(field))
            {
                return null;
            }
            var value = UnZigZag(rd.Varint64(new Site("field", field, index)));
            return value is >= int.MinValue and <= int.MaxValue ? (int)value
                : throw new InvalidDataException($"review batch: {new Site("field", field, index)}: {value} is not a 32-bit integer");
        }
        bool? Bool(ref SpanReader rd, int field) => Has(field) ? rd.Byte(new Site("field", field, index)) != 0 : null;
        var review = new ReviewMessage
        {
            Marketplace = Str(ref reader, 0),
            CustomerId = Str(ref reader, 1),
            ReviewId = Str(ref reader, 2) ?? "",
            ProductId = Str(ref reader, 3),
            ProductParent = Str(ref reader, 4),
            ProductTitle = Str(ref reader, 5),
            ProductCategory = Str(ref reader, 6) ?? "",
            StarRating = Int(ref reader, 7),
            HelpfulVotes = Int(ref reader, 8),
            TotalVotes = Int(ref reader, 9),
            Vine = Bool(ref reader, 10),
            VerifiedPurchase = Bool(ref reader, 11),
            ReviewHeadline = Str(ref reader, 12),
            ReviewBody = Str(ref reader, 13) ?? "",
            ReviewDate = Str(ref reader, 14),
            Source = Str(ref reader, 15),
            EventTimeMs = Has(16) ? UnZigZag(reader.Varint64(new Site("field", 16, index))) : null,
            IngestedAtMs = Has(17) ? UnZigZag(reader.Varint64(new Site("field", 17, index))) : 0,
        };
        // Whatever follows is fields of a later version (mask bits 18 and up), which this version skips.
        return review;
    }

    /// <summary>What is being read, for error messages; formatted only when one is thrown.</summary>
    private readonly record struct Site(string Label, int Field = -1, int Review = -1)
    {
        public override string ToString() => Field >= 0 ? $"{Label} {Field} of review {Review}"
            : Review >= 0 ? $"{Label} {Review}" : Label;
    }

    private static int StringSize(string? value)
    {
        if (value is null)
        {
            return 0;
        }
        var bytes = Encoding.UTF8.GetByteCount(value);
        return VarintSize((uint)bytes) + bytes;
    }

    private static int IntSize(int? value) => value is { } v ? VarintSize(ZigZag(v)) : 0;

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }

    private ref struct SpanWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _position;

        public void Byte(byte value) => _buffer[_position++] = value;

        public void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer[_position++] = (byte)(value | 0x80);
                value >>= 7;
            }
            _buffer[_position++] = (byte)value;
        }

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetByteCount(value);
            Varint((uint)bytes);
            _position += Encoding.UTF8.GetBytes(value, _buffer[_position..]);
        }

        public void OptionalString(string? value)
        {
            if (value is not null)
            {
                String(value);
            }
        }

        public void OptionalInt(int? value)
        {
            if (value is { } v)
            {
                Varint(ZigZag(v));
            }
        }

        public void OptionalBool(bool? value)
        {
            if (value is { } v)
            {
                Byte(v ? (byte)1 : (byte)0);
            }
        }
    }

    private ref struct SpanReader(ReadOnlySpan<byte> buffer)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;

        public int Position { get; private set; }

        public readonly bool AtEnd => Position == _buffer.Length;

        public byte Byte(Site what)
        {
            if (Position >= _buffer.Length)
            {
                throw Truncated(what);
            }
            return _buffer[Position++];
        }

        public ulong Varint64(Site what)
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte(what);
                if (shift == 63 && b > 1)
                {
                    break; // a tenth byte may hold only the 64th bit
                }
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
            throw new InvalidDataException($"review batch: {what}: not a valid 64-bit varint at byte {Position}");
        }

        public int Varint(Site what)
        {
            var value = Varint64(what);
            return value <= int.MaxValue ? (int)value
                : throw new InvalidDataException($"review batch: {what}: {value} is out of range at byte {Position}");
        }

        public ReadOnlySpan<byte> Bytes(int length, Site what)
        {
            if (length > _buffer.Length - Position)
            {
                throw Truncated(what);
            }
            var slice = _buffer.Slice(Position, length);
            Position += length;
            return slice;
        }

        public string String(Site what)
        {
            var length = Varint(what);
            return Encoding.UTF8.GetString(Bytes(length, what));
        }

        private readonly InvalidDataException Truncated(Site what) =>
            new($"review batch: {what} runs past the end of its {_buffer.Length} bytes (at byte {Position})");
    }
}
