using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ReviewOrleans.Platform.Tests;

/// <summary>A self-signed certificate for 127.0.0.1 and localhost, written as PEM files into a scratch folder.</summary>
public sealed class TestCertificate : IDisposable
{
    private readonly ScratchDirectory _directory = new("revieworleans-tls-");

    public TestCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // Both ends of mutual TLS present it: server and client authentication.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        Certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        CertificatePath = _directory.File("cert.pem");
        KeyPath = _directory.File("key.pem");
        File.WriteAllText(CertificatePath, created.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    public X509Certificate2 Certificate { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    /// <summary>A handler that trusts this certificate alone (as a client given it as its CA would).</summary>
    public SocketsHttpHandler TrustingHandler() => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, remote, _, _) => remote is not null && remote.GetRawCertData().AsSpan().SequenceEqual(Certificate.RawData) },
    };

    public void Dispose()
    {
        Certificate.Dispose();
        _directory.Dispose();
    }
}
