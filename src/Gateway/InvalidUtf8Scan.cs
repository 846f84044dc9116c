using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Gateway;

/// <summary>A text field of one record that held bytes that are not UTF-8, at <see cref="ByteOffset"/> within the field.</summary>
public readonly record struct InvalidUtf8Field(int Record, string Field, int ByteOffset);

/// <summary>
/// Google.Protobuf refuses a whole message when one of its strings is not UTF-8, so one producer's stray byte cost
/// every record of the call, answered only with "Unknown: Exception was thrown by handler". This middleware reads the
/// upload calls one message at a time (each held once, bounded by Gateway:MaxRequestBytes), replaces what is not
/// UTF-8 in their text fields by '?' so that they parse, and notes per message, in order, which records those were;
/// the handler refuses them with <c>&lt;field&gt;.invalid_utf8</c> and takes the rest.
/// </summary>
public sealed class InvalidUtf8Scan(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private static readonly string Service = "/" + ReviewGateway.Descriptor.FullName + "/";
    private static readonly string[] UploadMethods = ["PutReviews", "PutReviewStream"];

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value;
        if (path is not null && path.StartsWith(Service, StringComparison.Ordinal) && UploadMethods.Contains(path[Service.Length..])
            && GrpcErrorResponse.IsGrpc(context.Request))
        {
            var findings = new InvalidUtf8Findings();
            context.Features.Set(findings);
            context.Request.Body = new ScanningStream(context.Request.Body, findings, options.Value.MaxRequestBytes);
        }
        return next(context);
    }

    /// <summary>
    /// Hands the body on one whole gRPC message at a time, each scanned first. Google.Protobuf refuses a whole message
    /// when one string in it is not UTF-8 ("Exception was thrown by handler", every record lost), so the offending
    /// bytes are replaced by '?' (a byte for a byte: the framing stays valid) and their records are refused by name.
    /// A compressed message, or one above the size limit (which gRPC refuses), is passed on as it comes.
    /// </summary>
    private sealed class ScanningStream(Stream inner, InvalidUtf8Findings findings, int maxMessageBytes) : Stream
    {
        private const int HeaderBytes = GatewayRequestLimit.FrameHeaderBytes;

        private byte[] _frame = new byte[4096];
        private int _frameLength;
        private int _served;
        private long _passThrough; // bytes of an unscanned message still to hand on straight from the inner stream

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }
            if (_served == _frameLength && _passThrough > 0)
            {
                var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _passThrough)], cancellationToken);
                _passThrough = read == 0 ? 0 : _passThrough - read;
                return read;
            }
            if (_served == _frameLength && !await NextFrameAsync(cancellationToken))
            {
                return 0;
            }
            var count = Math.Min(buffer.Length, _frameLength - _served);
            _frame.AsMemory(_served, count).CopyTo(buffer);
            _served += count;
            return count;
        }

        /// <summary>Reads the next message whole (or, unscanned, its header); false at the end of the body.</summary>
        private async ValueTask<bool> NextFrameAsync(CancellationToken cancellationToken)
        {
            _served = _frameLength = 0;
            _frameLength = await FillAsync(0, HeaderBytes, cancellationToken);
            if (_frameLength < HeaderBytes)
            {
                return _frameLength > 0; // a truncated frame goes on for gRPC to refuse
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(_frame.AsSpan(1, 4));
            if (_frame[0] != 0 || length > (uint)maxMessageBytes)
            {
                findings.Add([]);
                _passThrough = length;
                return true;
            }
            if (_frame.Length < HeaderBytes + length)
            {
                Array.Resize(ref _frame, HeaderBytes + (int)length);
            }
            _frameLength += await FillAsync(HeaderBytes, (int)length, cancellationToken);
            var found = new List<InvalidUtf8Field>();
            if (_frameLength == HeaderBytes + length)
            {
                Scan(_frame.AsSpan(HeaderBytes, (int)length), PutReviewsRequest.Descriptor, record: -1, found);
            }
            findings.Add(found);
            return true;
        }

        private async ValueTask<int> FillAsync(int offset, int count, CancellationToken cancellationToken)
        {
            var filled = 0;
            while (filled < count)
            {
                var read = await inner.ReadAsync(_frame.AsMemory(offset + filled, count - filled), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                filled += read;
            }
            return filled;
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// Walks the protobuf wire format of <paramref name="message"/> by its descriptor: string fields are checked (and
    /// what is not UTF-8 in them replaced by '?'), message fields entered; each element of the top level's repeated
    /// field is a record. A malformed message is left to the protobuf parser, which refuses it.
    /// </summary>
    internal static void Scan(Span<byte> message, MessageDescriptor descriptor, int record, List<InvalidUtf8Field> found)
    {
        var nextRecord = 0;
        while (!message.IsEmpty)
        {
            if (!TryVarint(ref message, out var tag))
            {
                return;
            }
            switch ((int)(tag & 7))
            {
                case 0:
                    if (!TryVarint(ref message, out _))
                    {
                        return;
                    }
                    break;
                case 1:
                    if (message.Length < 8)
                    {
                        return;
                    }
                    message = message[8..];
                    break;
                case 5:
                    if (message.Length < 4)
                    {
                        return;
                    }
                    message = message[4..];
                    break;
                case 2:
                    if (!TryVarint(ref message, out var length) || length > (ulong)message.Length)
                    {
                        return;
                    }
                    var value = message[..(int)length];
                    message = message[(int)length..];
                    var field = descriptor.FindFieldByNumber((int)(tag >> 3));
                    if (field?.FieldType == FieldType.String)
                    {
                        if (!Utf8.IsValid(value))
                        {
                            found.Add(new InvalidUtf8Field(record, field.Name, Sanitize(value)));
                        }
                    }
                    else if (field?.FieldType == FieldType.Message)
                    {
                        Scan(value, field.MessageType, record >= 0 ? record : nextRecord++, found);
                    }
                    break;
                default:
                    return; // groups are not used by this API
            }
        }
    }

    /// <summary>Replaces each byte sequence that is not UTF-8 by as many '?'; returns the offset of the first.</summary>
    private static int Sanitize(Span<byte> value)
    {
        var first = -1;
        var offset = 0;
        while (offset < value.Length)
        {
            if (Rune.DecodeFromUtf8(value[offset..], out _, out var consumed) != OperationStatus.Done)
            {
                first = first < 0 ? offset : first;
                value.Slice(offset, consumed).Fill((byte)'?');
            }
            offset += consumed;
        }
        return first;
    }

    private static bool TryVarint(ref Span<byte> data, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && !data.IsEmpty; shift += 7)
        {
            var b = data[0];
            data = data[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>The findings of <see cref="InvalidUtf8Scan"/> for one call, one entry per message in the order they arrived.</summary>
public sealed class InvalidUtf8Findings
{
    private readonly Queue<List<InvalidUtf8Field>> _messages = new();

    internal void Add(List<InvalidUtf8Field> fields)
    {
        lock (_messages)
        {
            _messages.Enqueue(fields);
        }
    }

    /// <summary>The findings of the next message the handler reads; empty when it held none (or was not scanned).</summary>
    public List<InvalidUtf8Field> Next()
    {
        lock (_messages)
        {
            return _messages.TryDequeue(out var fields) ? fields : [];
        }
    }
}
