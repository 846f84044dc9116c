using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Gateway;

/// <summary>A text field of one record that held bytes that are not UTF-8, at <see cref="ByteOffset"/> within the field.</summary>
public readonly record struct InvalidUtf8Field(int Record, string Field, int ByteOffset);

/// <summary>
/// Reads every gRPC call's body one whole message at a time before gRPC does, for two checks that gRPC's own reading
/// cannot make:
/// <list type="bullet">
/// <item>A message above <see cref="GatewayOptions.MaxRequestBytes"/> is refused from its length prefix, before any of
/// it is read, with <c>ResourceExhausted</c> naming the limit and the size (gRPC's own check names neither).</item>
/// <item>In the upload calls (<c>PutReviews</c>, <c>PutReviewStream</c>), text that is not UTF-8: Google.Protobuf
/// refuses a whole message when one of its strings is not UTF-8, so one producer's stray byte cost every record of
/// the call, answered only with "Unknown: Exception was thrown by handler". Such bytes are replaced by '?' (a byte for
/// a byte, so the framing stays valid) and their records noted per message, in order; the handler refuses them with
/// <c>&lt;field&gt;.invalid_utf8</c> and takes the rest.</item>
/// </list>
/// </summary>
public sealed class GatewayRequestFrames(RequestDelegate next, IOptions<GatewayOptions> options)
{
    /// <summary>A gRPC message's frame: a compression flag and a big-endian 32-bit length.</summary>
    public const int FrameHeaderBytes = 5;

    private static readonly string Service = "/" + ReviewGateway.Descriptor.FullName + "/";
    private static readonly string[] UploadMethods = ["PutReviews", "PutReviewStream"];

    public Task InvokeAsync(HttpContext context)
    {
        if (GrpcErrorResponse.IsGrpc(context.Request))
        {
            var path = context.Request.Path.Value;
            InvalidUtf8Findings? findings = null;
            if (path is not null && path.StartsWith(Service, StringComparison.Ordinal) && UploadMethods.Contains(path[Service.Length..]))
            {
                findings = new InvalidUtf8Findings();
                context.Features.Set(findings);
            }
            context.Request.Body = new FramedStream(context.Request.Body, findings, options.Value.MaxRequestBytes);
        }
        return next(context);
    }

    public static string TooLarge(long size, int limit) =>
        $"request: a message of {size:N0} bytes exceeds the gateway's limit of {limit:N0} bytes (Gateway:MaxRequestBytes); " +
        "send fewer records per call (reviewctl send splits its batches by bytes)";

    /// <summary>
    /// Hands the body on one whole gRPC message at a time, checked first; a compressed message is passed on as it
    /// comes (its text cannot be read without decompressing it, which gRPC does).
    /// </summary>
    private sealed class FramedStream(Stream inner, InvalidUtf8Findings? findings, int maxMessageBytes) : Stream
    {
        private const int HeaderBytes = FrameHeaderBytes;

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
            if (length > (uint)maxMessageBytes)
            {
                // gRPC takes an RpcException from the body as the call's status; none of the message is read.
                throw new RpcException(new Status(StatusCode.ResourceExhausted, TooLarge(length, maxMessageBytes)));
            }
            if (_frame[0] != 0 || findings is null)
            {
                findings?.Add([]);
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

/// <summary>The findings of <see cref="GatewayRequestFrames"/> for one call, one entry per message in the order they arrived.</summary>
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
