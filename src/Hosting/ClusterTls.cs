using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace ReviewOrleans.Hosting;

/// <summary>
/// Mutual TLS on the Orleans ports (silo to silo, and standalone gateways to silos) when <c>Cluster:Tls:CertificatePath</c>
/// is set: every member presents a certificate and accepts only peers whose certificate chains to
/// <c>Cluster:Tls:TrustedCertificatePath</c> (by default its own, for one self-signed certificate shared by the cluster).
/// Every silo and gateway of a cluster needs it, or none.
/// </summary>
public static class ClusterTls
{
    public const string Section = "Cluster:Tls";

    public static ISiloBuilder UseReviewTls(this ISiloBuilder silo, IConfiguration config)
    {
        if (TlsCertificates.From(config, Section) is { } certificates)
        {
            silo.UseTls(options => Configure(options, certificates));
        }
        return silo;
    }

    public static IClientBuilder UseReviewTls(this IClientBuilder client, IConfiguration config)
    {
        if (TlsCertificates.From(config, Section) is { } certificates)
        {
            client.UseTls(options => Configure(options, certificates));
        }
        return client;
    }

    public static bool Enabled(IConfiguration config) => !string.IsNullOrEmpty(config.GetValue<string>($"{Section}:CertificatePath"));

    private static void Configure(TlsOptions options, TlsCertificates certificates)
    {
        options.LocalCertificate = certificates.Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (certificate, _, _) => certificates.Validates(certificate);
    }
}
