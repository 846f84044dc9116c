using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ReviewOrleans.Hosting;

/// <summary>The address the gateway's gRPC and HTTP ports listen on (<c>Gateway:BindAddress</c>), for silos and standalone gateways alike.</summary>
public static class BindAddress
{
    public const string Setting = "Gateway:BindAddress";

    /// <exception cref="OptionsValidationException">Neither an IP address nor localhost.</exception>
    public static IPAddress From(IConfiguration config)
    {
        var value = config.GetValue(Setting, "127.0.0.1")!;
        return value.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(value, out var address) ? address
            : throw new OptionsValidationException(Setting, typeof(string),
                [$"{Setting} '{value}' is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface) or localhost"]);
    }
}
