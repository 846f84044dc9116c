using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>The --gateway and --json handling shared by every command that talks to a gateway.</summary>
internal sealed class GatewayConnection : IDisposable
{
    /// <summary>The co-hosted gateway's default address (see src/Silo/appsettings.json).</summary>
    public const string DefaultAddress = "http://127.0.0.1:5181";

    /// <summary>Where the API key comes from when --api-key is not given (keeps it out of shell history and ps).</summary>
    public const string ApiKeyVariable = "REVIEWORLEANS_API_KEY";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true).WithFormatDefaultValues(true));

    private readonly GrpcChannel _channel;

    public GatewayConnection(CommandLine commandLine)
    {
        var address = commandLine.String("gateway") ?? Environment.GetEnvironmentVariable("REVIEWORLEANS_GATEWAY") ?? DefaultAddress;
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new CommandLineException($"option --gateway: '{address}' is not an http:// or https:// URL");
        }
        Address = uri;
        Json = commandLine.Json;
        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        var apiKey = commandLine.String("api-key") ?? Environment.GetEnvironmentVariable(ApiKeyVariable);
        Client = apiKey is { Length: > 0 }
            ? new ReviewGateway.ReviewGatewayClient(_channel.Intercept(headers =>
            {
                headers.Add("authorization", $"Bearer {apiKey}");
                return headers;
            }))
            : new ReviewGateway.ReviewGatewayClient(_channel);
    }

    public Uri Address { get; }

    public bool Json { get; }

    public ReviewGateway.ReviewGatewayClient Client { get; }

    /// <summary>Prints a response as JSON (proto field names) when --json was given, else runs <paramref name="table"/>.</summary>
    public void Print(IMessage response, Action table)
    {
        if (Json)
        {
            Console.WriteLine(Formatter.Format(response));
        }
        else
        {
            table();
        }
    }

    /// <summary>Runs a gateway call, turning gRPC failures into one clear line and exit code 1.</summary>
    public static async Task<int> RunAsync(string[] args, string[] flags, Func<GatewayConnection, CommandLine, Task<int>> body)
    {
        var commandLine = new CommandLine(args, flags);
        using var connection = new GatewayConnection(commandLine);
        try
        {
            return await body(connection, commandLine);
        }
        catch (RpcException ex)
        {
            var hint = ex.StatusCode switch
            {
                StatusCode.Unavailable => $" (is a silo or gateway running at {connection.Address}?)",
                StatusCode.Unauthenticated => $" (give the gateway's key with --api-key or {ApiKeyVariable})",
                _ => "",
            };
            Console.Error.WriteLine($"reviewctl: {ex.StatusCode}: {ex.Status.Detail}{hint}");
            return 1;
        }
    }

    public void Dispose() => _channel.Dispose();
}
