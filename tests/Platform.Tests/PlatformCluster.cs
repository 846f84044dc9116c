using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using Orleans.TestingHost;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Gateway;
using ReviewOrleans.Silo;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// A TestingHost cluster of 2 silos configured exactly as the silo host configures itself (SQLite storage in a temp
/// folder, memory streams, the committed default model), plus the gateway as a separate Orleans client process would
/// run it, on a real Kestrel port reached through a real gRPC channel.
/// </summary>
public sealed class PlatformCluster : IAsyncDisposable
{
    public const int Partitions = 4;

    private WebApplication? _gateway;

    private PlatformCluster(TestCluster cluster, string databasePath)
    {
        Cluster = cluster;
        DatabasePath = databasePath;
    }

    public TestCluster Cluster { get; }

    public string DatabasePath { get; }

    public GrpcChannel Channel { get; private set; } = null!;

    public ReviewGateway.ReviewGatewayClient Gateway { get; private set; } = null!;

    public Uri GatewayAddress { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>Starts a cluster over the SQLite file at <paramref name="databasePath"/> (created if missing).</summary>
    /// <param name="settings">Configuration that overrides the defaults below (e.g. <c>Pipeline:WindowTime</c>).</param>
    /// <param name="silos">
    /// 2 by default. The memory streams lose what a silo's pulling agent holds when the second silo joins and takes
    /// queues over, so a test whose reviews flow at start (read from a source, not sent after the start) uses one.
    /// </param>
    public static async Task<PlatformCluster> StartAsync(string databasePath, string serviceId, IReadOnlyDictionary<string, string>? settings = null,
        short silos = 2)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.Properties["Storage:Provider"] = "sqlite";
        builder.Properties["Storage:SqlitePath"] = databasePath;
        builder.Properties["Pipeline:Partitions"] = Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Properties["Pipeline:WindowSize"] = "00:00:01";
        builder.Properties["Pipeline:AllowedLateness"] = "00:00:00.500";
        builder.Properties["Pipeline:FlushInterval"] = "00:00:00.100";
        builder.Properties["Pipeline:WindowTick"] = "00:00:00.100";
        builder.Properties["Pipeline:AnomalySaveInterval"] = "00:00:01";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.Properties[key] = value;
        }
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var platform = new PlatformCluster(cluster, databasePath);
        // The gateway reads the scored_reviews table the silos deliver to.
        await platform.StartGatewayAsync((settings ?? new Dictionary<string, string>()).Where(s => s.Key.StartsWith("Delivery:", StringComparison.Ordinal)));
        return platform;
    }

    private async Task StartGatewayAsync(IEnumerable<KeyValuePair<string, string>> settings)
    {
        // A port found free can be taken by another test's connection before Kestrel binds it: new ports, a few times.
        for (var attempt = 1; ; attempt++)
        {
            var grpcPort = SiloProcess.FreePort();
            var gateway = BuildGateway(settings, grpcPort, SiloProcess.FreePort());
            try
            {
                await gateway.StartAsync();
            }
            catch (IOException ex) when (attempt < 5 && ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                await gateway.DisposeAsync();
                continue;
            }
            _gateway = gateway;
            GatewayAddress = new Uri($"http://127.0.0.1:{grpcPort}");
            Channel = GrpcChannel.ForAddress(GatewayAddress);
            Gateway = new ReviewGateway.ReviewGatewayClient(Channel);
            return;
        }
    }

    private WebApplication BuildGateway(IEnumerable<KeyValuePair<string, string>> settings, int grpcPort, int httpPort)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Pipeline:Partitions"] = $"{Partitions}" });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.Services.AddSingleton(Cluster.Client);
        builder.Services.AddReviewGateway(builder.Configuration);
        builder.Services.AddApiKeys(builder.Configuration, IPAddress.Loopback, "the test gateway");
        builder.WebHost.ConfigureKestrel(k => k.ListenOnGatewayPorts(IPAddress.Loopback, grpcPort, httpPort));
        var gateway = builder.Build();
        gateway.MapReviewGateway();
        return gateway;
    }

    /// <summary>Sends every partition's buffered work downstream and closes due windows, so a poll sees it sooner.</summary>
    public async Task FlushAsync(params string[] categories)
    {
        await Task.WhenAll(Enumerable.Range(0, Partitions).Select(p => Grains.GetGrain<IReviewPartitionGrain>(p).Flush()));
        await Task.WhenAll(categories.Select(c => Grains.GetGrain<ICategoryGrain>(c).Tick()));
    }

    public async ValueTask DisposeAsync()
    {
        Channel?.Dispose();
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddReviewPipeline(siloBuilder.Configuration);
            if (siloBuilder.Configuration.GetValue<bool>(TimeoutAfterApplyFilter.Setting))
            {
                siloBuilder.AddOutgoingGrainCallFilter<TimeoutAfterApplyFilter>();
            }
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddMemoryStreams(StreamNames.Provider, streams =>
                streams.ConfigurePartitioning(configuration.GetValue(StreamNames.QueuesSetting, StreamNames.DefaultQueues)));
    }
}

/// <summary>One cluster shared by the tests of the "platform" collection.</summary>
public sealed class PlatformClusterFixture : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = new("revieworleans-tests-");

    public PlatformCluster Platform { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Platform = await PlatformCluster.StartAsync(_directory.File("state.db"), "platform-tests");

    public async Task DisposeAsync()
    {
        await Platform.DisposeAsync();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformClusterFixture>
{
    public const string Name = "platform";
}
