using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Gateway;

namespace ReviewOrleans.Platform.Tests;

/// <summary>API keys: how they are read, and the refusal to serve beyond loopback without one.</summary>
public sealed class ApiKeySetTests
{
    private const string Key = "0123456789abcdef-test-key";

    private static IConfiguration Config(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void From_KeyAndSha256Entry_AcceptsBothAndNothingElse()
    {
        var keys = ApiKeySet.From(Config(("Gateway:ApiKeys:0", Key), ("Gateway:ApiKeys:1", ApiKeySet.HashEntry("another-key-of-length-20"))));

        Assert.True(keys.Required);
        Assert.True(keys.Accepts(Key));
        Assert.True(keys.Accepts("another-key-of-length-20"));
        Assert.False(keys.Accepts(Key + "x"));
        Assert.False(keys.Accepts(""));
    }

    [Fact]
    public void HashEntry_IsTheKeysSha256InHex()
    {
        // echo -n abc | sha256sum
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeySet.HashEntry("abc"));
    }

    [Theory]
    [InlineData("short", "Gateway:ApiKeys:0 is a key of 5 characters; keys must have at least 16 (e.g. from `openssl rand -hex 32`)")]
    [InlineData("sha256:abcd", "Gateway:ApiKeys:0 holds 4 hex digits after 'sha256:'; a SHA-256 has 64")]
    [InlineData("sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "Gateway:ApiKeys:0 is not hex after 'sha256:'")]
    public void From_MalformedEntry_NamesTheEntry(string entry, string message)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => ApiKeySet.From(Config(("Gateway:ApiKeys:0", entry))));
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void AddApiKeys_BeyondLoopbackWithoutKeys_RefusesNamingTheSettings()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => new ServiceCollection().AddApiKeys(Config(), IPAddress.Any, "the gateway"));
        Assert.Contains("the gateway is bound to 0.0.0.0 (Gateway:BindAddress), beyond loopback, with no API key: set Gateway:ApiKeys", ex.Message);
        Assert.Contains("Gateway:AllowAnonymous=true", ex.Message);
    }

    [Fact]
    public void AddApiKeys_LoopbackOrAllowAnonymousOrKeys_Starts()
    {
        Assert.False(Keys(Config(), IPAddress.Loopback).Required);
        Assert.False(Keys(Config(), IPAddress.IPv6Loopback).Required);
        Assert.False(Keys(Config(("Gateway:AllowAnonymous", "true")), IPAddress.Any).Required);
        Assert.True(Keys(Config(("Gateway:ApiKeys:0", Key)), IPAddress.Any).Required);

        static ApiKeySet Keys(IConfiguration config, IPAddress bind) =>
            new ServiceCollection().AddApiKeys(config, bind, "the gateway").BuildServiceProvider().GetRequiredService<ApiKeySet>();
    }
}

/// <summary>
/// A silo process bound to every interface with API keys, reached through 127.0.0.1: its gRPC service, reflection
/// and dashboard want a key; its health endpoints do not.
/// </summary>
public sealed class GatewayAuthenticationTests
{
    private const string Key = "k3y-for-the-authentication-tests";
    private const string HashedKey = "a-second-key-stored-as-its-sha256";

    [Fact]
    public async Task SiloBoundToAnyAddress_WithKeys_RefusesWrongAndMissingKeysOnGrpcAndDashboard_HealthStaysOpen()
    {
        await using var silo = await SiloProcess.StartAsync("--Gateway:BindAddress=0.0.0.0",
            $"--Gateway:ApiKeys:0={Key}", $"--Gateway:ApiKeys:1={ApiKeySet.HashEntry(HashedKey)}");
        using var channel = GrpcChannel.ForAddress(silo.GrpcAddress);
        var gateway = new ReviewGateway.ReviewGatewayClient(channel);

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await gateway.ListCategoriesAsync(new ListCategoriesRequest()));
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Equal("no API key: send the header 'authorization: Bearer <key>' (reviewctl: --api-key or REVIEWORLEANS_API_KEY)", missing.Status.Detail);

        var wrong = await Assert.ThrowsAsync<RpcException>(async () => await gateway.ListCategoriesAsync(new ListCategoriesRequest(), Bearer(Key + "-not")));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal("the API key is not one of the keys in Gateway:ApiKeys", wrong.Status.Detail);

        await gateway.ListCategoriesAsync(new ListCategoriesRequest(), Bearer(Key));
        await gateway.ListCategoriesAsync(new ListCategoriesRequest(), Bearer(HashedKey));
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        using var http = new HttpClient { BaseAddress = silo.HttpAddress };
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));
        using (var anonymous = await http.GetAsync("/dashboard/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(http, "/dashboard/", new AuthenticationHeaderValue("Bearer", "wrong-key-of-some-length")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await Status(http, "/metrics", new AuthenticationHeaderValue("Bearer", Key)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(http, "/dashboard/", Basic("operator", "wrong-key-of-some-length")));
        Assert.Equal(HttpStatusCode.OK, await Status(http, "/dashboard/", new AuthenticationHeaderValue("Bearer", Key)));
        // What a browser sends once its login prompt has the key as the password.
        Assert.Equal(HttpStatusCode.OK, await Status(http, "/dashboard/", Basic("operator", HashedKey)));

        var without = await SiloProcess.RunToExitAsync(["tools", "ReviewCtl", "reviewctl.dll"],
            ["categories", "--gateway", silo.GrpcAddress.ToString()], new Dictionary<string, string>());
        Assert.Equal(1, without.ExitCode);
        Assert.Contains("Unauthenticated: no API key", without.Output);
        Assert.Contains("give the gateway's key with --api-key or REVIEWORLEANS_API_KEY", without.Output);
        var withOption = await SiloProcess.RunToExitAsync(["tools", "ReviewCtl", "reviewctl.dll"],
            ["categories", "--gateway", silo.GrpcAddress.ToString(), "--api-key", Key], new Dictionary<string, string>());
        Assert.Equal(0, withOption.ExitCode);
        var withEnvironment = await SiloProcess.RunToExitAsync(["tools", "ReviewCtl", "reviewctl.dll"],
            ["counts", "--gateway", silo.GrpcAddress.ToString()], new Dictionary<string, string> { ["REVIEWORLEANS_API_KEY"] = HashedKey });
        Assert.Equal(0, withEnvironment.ExitCode);
    }

    [Theory]
    [InlineData("src", "Silo", "ReviewOrleans.Silo.dll", "revieworleans silo")]
    [InlineData("src", "Gateway", "ReviewOrleans.Gateway.dll", "revieworleans gateway")]
    public async Task BoundBeyondLoopbackWithoutKeys_RefusesToStart_NamingTheSetting(string folder, string project, string dll, string program)
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync([folder, project, dll],
            ["--Gateway:BindAddress=0.0.0.0", $"--Gateway:GrpcPort={SiloProcess.FreePort()}", $"--Gateway:HttpPort={SiloProcess.FreePort()}",
             $"--Cluster:SiloPort={SiloProcess.FreePort()}", $"--Cluster:GatewayPort={SiloProcess.FreePort()}"],
            new Dictionary<string, string>());

        Assert.NotEqual(0, exitCode);
        Assert.Contains($"{program}: ", output);
        Assert.Contains("beyond loopback, with no API key: set Gateway:ApiKeys", output);
        Assert.Contains("Gateway:AllowAnonymous=true", output);
    }

    private static Metadata Bearer(string key) => new() { { "authorization", $"Bearer {key}" } };

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<HttpStatusCode> Status(HttpClient http, string path, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = authorization } };
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
