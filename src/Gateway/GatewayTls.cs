using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using ReviewOrleans.Hosting;

namespace ReviewOrleans.Gateway;

/// <summary>
/// HTTPS on the gateway's two ports when <c>Gateway:Tls:CertificatePath</c> is set (see <see cref="TlsCertificates"/>
/// for the files). <c>Gateway:Tls:ClientCertificates=require</c> also asks every client for a certificate that chains
/// to <c>Gateway:Tls:TrustedCertificatePath</c>, which then counts as protection beyond loopback like API keys.
/// </summary>
public sealed class GatewayTls
{
    public const string Section = "Gateway:Tls";

    private readonly TlsCertificates _certificates;

    private GatewayTls(TlsCertificates certificates, bool requireClientCertificates)
    {
        _certificates = certificates;
        RequireClientCertificates = requireClientCertificates;
    }

    public bool RequireClientCertificates { get; }

    /// <exception cref="OptionsValidationException">Unreadable files, or a ClientCertificates value other than none or require.</exception>
    public static GatewayTls? From(IConfiguration config)
    {
        var certificates = TlsCertificates.From(config, Section);
        var clients = config.GetValue($"{Section}:ClientCertificates", "none")!.ToLowerInvariant();
        if (clients is not ("none" or "require"))
        {
            throw new OptionsValidationException($"{Section}:ClientCertificates", typeof(string),
                [$"{Section}:ClientCertificates '{clients}' is not one of: none, require"]);
        }
        if (certificates is null)
        {
            return clients == "require"
                ? throw new OptionsValidationException($"{Section}:ClientCertificates", typeof(string),
                    [$"{Section}:ClientCertificates=require needs TLS: set {Section}:CertificatePath"])
                : null;
        }
        return new GatewayTls(certificates, clients == "require");
    }

    /// <param name="probes">The HTTP port: health probes come without a certificate, so there one is asked for but not
    /// required, and requests other than health must then present one (or a key) to <see cref="ApiKeyAuthentication"/>.</param>
    public void Apply(ListenOptions listen, bool probes = false) => listen.UseHttps(https =>
    {
        https.ServerCertificate = _certificates.Certificate;
        if (RequireClientCertificates)
        {
            https.ClientCertificateMode = probes ? ClientCertificateMode.AllowCertificate : ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => _certificates.Validates(certificate);
        }
    });
}
