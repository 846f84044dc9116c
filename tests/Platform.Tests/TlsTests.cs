using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.TestingHost;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Hosting;

namespace ReviewOrleans.Platform.Tests;

/// <summary>The gateway over HTTPS, and mutual TLS between silos and from clients, with generated self-signed certificates.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task GatewayWithCertificate_ClientTrustingItSucceeds_OthersFail()
    {
        using var certificate = new TestCertificate("revieworleans-gateway");
        await using var silo = await SiloProcess.StartTlsAsync(certificate, "--Dashboard:Enabled=false",
            $"--Gateway:Tls:CertificatePath={certificate.CertificatePath}", $"--Gateway:Tls:KeyPath={certificate.KeyPath}");
        Assert.Contains("gRPC gateway (TLS):  https://", silo.Output);

        using var trusting = GrpcChannel.ForAddress(silo.GrpcAddress, new GrpcChannelOptions { HttpHandler = certificate.TrustingHandler() });
        await new ReviewGateway.ReviewGatewayClient(trusting).ListCategoriesAsync(new ListCategoriesRequest());

        // The machine's trust store does not hold a self-signed certificate.
        using var untrusting = GrpcChannel.ForAddress(silo.GrpcAddress);
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await new ReviewGateway.ReviewGatewayClient(untrusting).ListCategoriesAsync(new ListCategoriesRequest()));
        Assert.True(refused.Status.Detail.Contains("SSL", StringComparison.Ordinal), refused.Status.Detail + " / " + refused.Status.DebugException);
        using var cleartext = GrpcChannel.ForAddress(new UriBuilder(silo.GrpcAddress) { Scheme = "http" }.Uri);
        await Assert.ThrowsAsync<RpcException>(async () =>
            await new ReviewGateway.ReviewGatewayClient(cleartext).ListCategoriesAsync(new ListCategoriesRequest()));

        using var http = new HttpClient(certificate.TrustingHandler()) { BaseAddress = silo.HttpAddress };
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));
        using var plain = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetStringAsync(new Uri(silo.HttpAddress, "/healthz")));

        var withCa = await SiloProcess.RunToExitAsync(["tools", "ReviewCtl", "reviewctl.dll"],
            ["counts", "--gateway", silo.GrpcAddress.ToString(), "--ca-cert", certificate.CertificatePath], new Dictionary<string, string>());
        Assert.True(withCa.ExitCode == 0, withCa.Output);
        var withoutCa = await SiloProcess.RunToExitAsync(["tools", "ReviewCtl", "reviewctl.dll"],
            ["counts", "--gateway", silo.GrpcAddress.ToString()], new Dictionary<string, string>());
        Assert.Equal(1, withoutCa.ExitCode);
        Assert.Contains("The SSL connection could not be established", withoutCa.Output);
        Assert.Contains("give that certificate with --ca-cert or REVIEWORLEANS_CA_CERT", withoutCa.Output);
    }

    [Fact]
    public async Task GatewayRequiringClientCertificates_BoundBeyondLoopbackWithoutKeys_Starts_OnlyClientsWithACertificateGetIn()
    {
        using var certificate = new TestCertificate("revieworleans-mtls");
        using var stranger = new TestCertificate("someone-else");
        await using var silo = await SiloProcess.StartTlsAsync(certificate, "--Dashboard:Enabled=false", "--Gateway:BindAddress=0.0.0.0",
            $"--Gateway:Tls:CertificatePath={certificate.CertificatePath}", $"--Gateway:Tls:KeyPath={certificate.KeyPath}",
            "--Gateway:Tls:ClientCertificates=require");

        async Task<bool> Answers(TestCertificate? clientCertificate)
        {
            var handler = certificate.TrustingHandler();
            if (clientCertificate is not null)
            {
                handler.SslOptions.ClientCertificates = [clientCertificate.Certificate];
            }
            using var channel = GrpcChannel.ForAddress(silo.GrpcAddress, new GrpcChannelOptions { HttpHandler = handler });
            try
            {
                await new ReviewGateway.ReviewGatewayClient(channel).ListCategoriesAsync(new ListCategoriesRequest());
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }

        Assert.True(await Answers(certificate));
        Assert.False(await Answers(clientCertificate: null));
        Assert.False(await Answers(stranger));

        // The HTTP port lets probes in without a certificate, and nothing else.
        using var probe = new HttpClient(certificate.TrustingHandler()) { BaseAddress = silo.HttpAddress };
        Assert.Equal("ok", await probe.GetStringAsync("/healthz"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await probe.GetAsync("/metrics")).StatusCode);
        var withCertificate = certificate.TrustingHandler();
        withCertificate.SslOptions.ClientCertificates = [certificate.Certificate];
        using var operator_ = new HttpClient(withCertificate) { BaseAddress = silo.HttpAddress };
        Assert.Equal(HttpStatusCode.OK, (await operator_.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task TwoSiloCluster_MutualTls_SilosJoinAndItsClientCalls_ClientsWithoutOrWithAnotherCertificateCannot()
    {
        using var certificate = new TestCertificate("revieworleans-cluster");
        using var stranger = new TestCertificate("someone-else");
        var builder = new TestClusterBuilder(2);
        builder.Options.ServiceId = $"tls-{Guid.NewGuid():N}";
        // Real sockets (not the in-memory transport), so that TLS runs over TCP as between silo processes.
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Properties["Cluster:Tls:CertificatePath"] = certificate.CertificatePath;
        builder.Properties["Cluster:Tls:KeyPath"] = certificate.KeyPath;
        builder.AddSiloBuilderConfigurator<TlsSilo>();
        builder.AddClientBuilderConfigurator<TlsClient>();
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        // Membership runs silo to silo: both active means their TLS handshakes succeeded both ways.
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var hosts = await Eventually.Get(() => management.GetHosts(onlyActive: true), h => h.Count == 2, "both silos active");
        Assert.Equal(2, hosts.Count);

        var gateway = cluster.Primary?.GatewayAddress?.Endpoint ?? throw new InvalidOperationException("the primary silo has no Orleans gateway");
        var options = cluster.Options;
        Assert.Equal(2, (await ConnectAsync(gateway, options, certificate, TimeSpan.FromSeconds(30))).Count);
        // Refused in the handshake, the client keeps retrying its gateway until given up on.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ConnectAsync(gateway, options, certificate: null, TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ConnectAsync(gateway, options, stranger, TimeSpan.FromSeconds(5)));
    }

    /// <summary>A client of its own, over TLS with <paramref name="certificate"/> or without; the active silos it sees.</summary>
    private static async Task<Dictionary<SiloAddress, SiloStatus>> ConnectAsync(IPEndPoint gateway, TestClusterOptions cluster, TestCertificate? certificate, TimeSpan timeout)
    {
        var settings = new Dictionary<string, string?>();
        if (certificate is not null)
        {
            settings["Cluster:Tls:CertificatePath"] = certificate.CertificatePath;
            settings["Cluster:Tls:KeyPath"] = certificate.KeyPath;
        }
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var host = new HostBuilder()
            .UseOrleansClient(client => client
                .UseStaticClustering(gateway)
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = cluster.ClusterId;
                    o.ServiceId = cluster.ServiceId;
                })
                .UseReviewTls(config))
            .Build();
        using var cancel = new CancellationTokenSource(timeout);
        await host.StartAsync(cancel.Token);
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            return await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(cancel.Token);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private sealed class TlsSilo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.UseReviewTls(siloBuilder.Configuration);
    }

    private sealed class TlsClient : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) => clientBuilder.UseReviewTls(configuration);
    }
}
