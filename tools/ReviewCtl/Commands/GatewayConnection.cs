using Google.Protobuf;
using System.Security.Cryptography.X509Certificates;
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

    /// <summary>A PEM file of the certificates an https:// gateway's certificate must chain to (a self-signed one, say).</summary>
    public const string CaCertVariable = "REVIEWORLEANS_CA_CERT";

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
        var caPath = commandLine.String("ca-cert") ?? Environment.GetEnvironmentVariable(CaCertVariable);
        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            HttpHandler = caPath is { Length: > 0 } ? TrustingOnly(caPath) : null,
        });
        var apiKey = commandLine.String("api-key") ?? Environment.GetEnvironmentVariable(ApiKeyVariable);
        Client = apiKey is { Length: > 0 }
            ? new ReviewGateway.ReviewGatewayClient(_channel.Intercept(headers =>
            {
                headers.Add("authorization", $"Bearer {apiKey}");
                return headers;
            }))
            : new ReviewGateway.ReviewGatewayClient(_channel);
    }

    /// <summary>
    /// A handler that accepts the gateway's certificate when it chains to one in <paramref name="caPath"/>; the name
    /// on it is not checked, since gateways are often reached by address.
    /// </summary>
    private static SocketsHttpHandler TrustingOnly(string caPath)
    {
        if (!File.Exists(caPath))
        {
            throw new CommandLineException($"option --ca-cert: no file at '{caPath}'");
        }
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(caPath);
        return new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null)
                    {
                        return false;
                    }
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                },
            },
        };
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
                _ when ex.Status.Detail.Contains("SSL", StringComparison.Ordinal) =>
                    $" (if the gateway's certificate is self-signed or from a private CA, give that certificate with --ca-cert or {CaCertVariable})",
                _ => "",
            };
            Console.Error.WriteLine($"reviewctl: {ex.StatusCode}: {ex.Status.Detail}{hint}");
            return 1;
        }
    }

    public void Dispose() => _channel.Dispose();
}
