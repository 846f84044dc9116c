using System.Buffers;
using System.Buffers.Binary;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ReviewOrleans.Gateway;

/// <summary>
/// Refuses a gRPC call whose first message is larger than <see cref="GatewayOptions.MaxRequestBytes"/>, from the
/// message's length prefix, before any of it is buffered or parsed; the answer names the limit and the size.
/// (gRPC's own check of later messages in a stream gives no sizes; <c>PutReviewStream</c> adds the limit.)
/// </summary>
public sealed class GatewayRequestLimit(RequestDelegate next, IOptions<GatewayOptions> options)
{
    /// <summary>A gRPC message's frame: a compression flag and a big-endian 32-bit length.</summary>
    public const int FrameHeaderBytes = 5;

    private readonly int _limit = options.Value.MaxRequestBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        if (GrpcErrorResponse.IsGrpc(context.Request))
        {
            var reader = context.Request.BodyReader;
            var read = await reader.ReadAtLeastAsync(FrameHeaderBytes, context.RequestAborted);
            var length = MessageLength(read.Buffer);
            // Nothing is consumed: gRPC reads the same bytes next.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            if (length > _limit)
            {
                GrpcErrorResponse.Write(context, Grpc.Core.StatusCode.ResourceExhausted, TooLarge(length, _limit));
                return;
            }
        }
        await next(context);
    }

    public static string TooLarge(long size, int limit) =>
        $"request: a message of {size:N0} bytes exceeds the gateway's limit of {limit:N0} bytes (Gateway:MaxRequestBytes); " +
        "send fewer records per call (reviewctl send splits its batches by bytes)";

    private static long MessageLength(ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < FrameHeaderBytes)
        {
            return 0;
        }
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        buffer.Slice(0, FrameHeaderBytes).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }
}

/// <summary>A gRPC error answered by middleware, before the call reaches its service.</summary>
internal static class GrpcErrorResponse
{
    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>A trailers-only response: gRPC clients read the status from these headers.</summary>
    public static void Write(HttpContext context, Grpc.Core.StatusCode code, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }
}
