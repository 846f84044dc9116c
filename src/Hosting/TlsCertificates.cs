using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ReviewOrleans.Hosting;

/// <summary>
/// A certificate and the certificates its peers must chain to, from a configuration section such as
/// <c>Cluster:Tls</c> or <c>Gateway:Tls</c>: <c>CertificatePath</c> (PEM with <c>KeyPath</c>, or a PKCS#12 file
/// with <c>Password</c>) and <c>TrustedCertificatePath</c> (PEM, one or more certificates; by default the
/// certificate itself, as for a self-signed one shared by the cluster).
/// </summary>
public sealed class TlsCertificates
{
    private TlsCertificates(X509Certificate2 certificate, X509Certificate2Collection trusted)
    {
        Certificate = certificate;
        Trusted = trusted;
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2Collection Trusted { get; }

    /// <summary>The section's certificates, or null when it names none.</summary>
    /// <exception cref="OptionsValidationException">A file that is missing or cannot be read; names the setting and the file.</exception>
    public static TlsCertificates? From(IConfiguration config, string section)
    {
        var path = config.GetValue<string>($"{section}:CertificatePath");
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        var certificate = Load($"{section}:CertificatePath", path, () =>
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, config.GetValue<string>($"{section}:Password"));
            }
            var keyPath = config.GetValue<string>($"{section}:KeyPath");
            using var pem = string.IsNullOrEmpty(keyPath) ? X509Certificate2.CreateFromPemFile(path) : X509Certificate2.CreateFromPemFile(path, Existing($"{section}:KeyPath", keyPath));
            if (!pem.HasPrivateKey)
            {
                throw new CryptographicException($"it holds no private key; set {section}:KeyPath to the key's PEM file");
            }
            // A key read from PEM is ephemeral, which TLS on some platforms refuses; a PKCS#12 round trip makes it usable everywhere.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        });
        var trustedPath = config.GetValue<string>($"{section}:TrustedCertificatePath");
        var trusted = new X509Certificate2Collection();
        if (string.IsNullOrEmpty(trustedPath))
        {
            trusted.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
        }
        else
        {
            Load($"{section}:TrustedCertificatePath", trustedPath, () =>
            {
                trusted.ImportFromPemFile(trustedPath);
                return trusted.Count > 0 ? trusted[0] : throw new CryptographicException("it holds no PEM certificate");
            });
        }
        return new TlsCertificates(certificate, trusted);
    }

    /// <summary>
    /// Whether <paramref name="remote"/> chains to one of <see cref="Trusted"/>. Peers are reached by address, not by
    /// name, so the name on the certificate is not what is checked; the trust anchor is.
    /// </summary>
    public bool Validates(X509Certificate2 remote)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }

    private static string Existing(string setting, string path) => File.Exists(path) ? path
        : throw new OptionsValidationException(setting, typeof(string), [$"{setting}: no file at '{path}'"]);

    private static X509Certificate2 Load(string setting, string path, Func<X509Certificate2> load)
    {
        Existing(setting, path);
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException)
        {
            throw new OptionsValidationException(setting, typeof(string), [$"{setting}: '{path}' cannot be used as a certificate: {ex.Message}"]);
        }
    }
}
