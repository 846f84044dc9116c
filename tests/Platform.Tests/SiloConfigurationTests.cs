using Microsoft.Extensions.Options;
using ReviewOrleans.Silo;

namespace ReviewOrleans.Platform.Tests;

public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData("--Streams:Provider=kafka", "Streams:Provider")]
    [InlineData("--Storage:Provider=mongo", "Storage:Provider")]
    [InlineData("--Storage:Provider=adonet", "Storage:Invariant")]
    [InlineData("--Streams:Provider=eventhubs", "Streams:EventHubs:ConnectionString")]
    [InlineData("--Pipeline:AnomalyShards=0", "AnomalyShards")]
    [InlineData("--Streams:CacheMaxAgeSeconds=0", "Streams:CacheMaxAgeSeconds")]
    [InlineData("--Gateway:BindAddress=my-host", "Gateway:BindAddress")]
    public async Task Start_InvalidProviderSetting_FailsNamingTheSetting(string argument, string setting)
    {
        var directory = Directory.CreateTempSubdirectory("revieworleans-config-").FullName;
        try
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var app = SiloApp.Create([argument, "--Dashboard:Enabled=false", $"--Storage:SqlitePath={Path.Combine(directory, "x.db")}"]);
                await app.StartAsync();
            });
            Assert.Contains(setting, ex.ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("--Pipeline:AnomalySampleSize=1", "Pipeline:AnomalySampleSize", "SampleSize must be between 2")]
    [InlineData("--Pipeline:AnomalyShingleSize=0", "Pipeline:AnomalyShingleSize", "ShingleSize must be between 1")]
    [InlineData("--Pipeline:AnomalyTimeDecay=2", "Pipeline:AnomalyTimeDecay", "TimeDecay must be a finite number")]
    [InlineData("--Pipeline:AnomalySaveInterval=00:00:00", "Pipeline:AnomalySaveInterval", "must be positive")]
    [InlineData("--Model:Path=/nonexistent/model.json", "/nonexistent/model.json", "manifest not found")]
    [InlineData("--Model:MaxBatchSize=0", "MaxBatchSize", "must be at least 1")]
    public async Task Start_InvalidForestOrModelSetting_FailsBeforeAcceptingReviews(string argument, string setting, string rule)
    {
        // These used to fail only inside grain activations, after the gateway had accepted the reviews.
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = SiloApp.Create([argument, "--Storage:Provider=memory", "--Dashboard:Enabled=false",
                $"--Gateway:GrpcPort={SiloProcess.FreePort()}", $"--Gateway:HttpPort={SiloProcess.FreePort()}",
                $"--Cluster:SiloPort={SiloProcess.FreePort()}", $"--Cluster:GatewayPort={SiloProcess.FreePort()}"]);
            await app.StartAsync();
            await app.StopAsync();
        });
        Assert.Contains(setting, ex.ToString());
        Assert.Contains(rule, ex.ToString());
    }

    [Theory]
    [InlineData("--Demo:AnomalyEvery=00:00:00", "Demo:AnomalyEvery")]
    [InlineData("--Demo:ReviewsPerSecond=0", "Demo:ReviewsPerSecond")]
    public async Task Start_DemoWithInvalidSetting_FailsNamingIt(string argument, string setting)
    {
        // An AnomalyEvery of zero used to inject a 2,000-review burst every 100 ms.
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = SiloApp.Create(["--demo", argument, "--Storage:Provider=memory", "--Dashboard:Enabled=false",
                $"--Gateway:GrpcPort={SiloProcess.FreePort()}", $"--Gateway:HttpPort={SiloProcess.FreePort()}",
                $"--Cluster:SiloPort={SiloProcess.FreePort()}", $"--Cluster:GatewayPort={SiloProcess.FreePort()}"]);
            await app.StartAsync();
            await app.StopAsync();
        });
        Assert.Contains(setting, ex.ToString());
    }

    [Fact]
    public async Task Start_ProcessingTimeLatenessNotAboveFlushInterval_FailsNamingAllowedLateness()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = SiloApp.Create(["--Storage:Provider=memory", "--Dashboard:Enabled=false",
                "--Pipeline:AllowedLateness=00:00:00.100", "--Pipeline:FlushInterval=00:00:00.250",
                $"--Gateway:GrpcPort={SiloProcess.FreePort()}", $"--Gateway:HttpPort={SiloProcess.FreePort()}",
                $"--Cluster:SiloPort={SiloProcess.FreePort()}", $"--Cluster:GatewayPort={SiloProcess.FreePort()}"]);
            await app.StartAsync();
            await app.StopAsync();
        });
        Assert.IsType<OptionsValidationException>(ex.GetBaseException(), exactMatch: false);
        Assert.Contains("AllowedLateness", ex.GetBaseException().Message);
    }
}

public sealed class PostgresConnectionStringTests
{
    [Theory]
    [InlineData("Host=db;Username=orleans;Database=revieworleans", true)]
    [InlineData("Host=db;Username=orleans;Database=revieworleans;No Reset On Close=false", false)]
    [InlineData("Host=db;Username=orleans;Database=revieworleans;NoResetOnClose=false", false)]
    public void WithoutResetOnClose_UnlessTheStringSaysOtherwise(string given, bool expected)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(ReviewOrleans.Hosting.ClusterProfile.WithoutResetOnClose(given));
        Assert.Equal(expected, builder.NoResetOnClose);
        Assert.Equal(("db", "orleans", "revieworleans"), (builder.Host, builder.Username, builder.Database));
    }
}
