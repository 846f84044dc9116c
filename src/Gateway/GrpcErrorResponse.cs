using Microsoft.AspNetCore.Http;

namespace ReviewOrleans.Gateway;

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
