using Grpc.Net.Client;
using Microsoft.Playwright;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// The main run as a newcomer sees it: the silo executable with --demo, its dashboard in real headless Chromium, and
/// windows arriving through the gateway within seconds.
/// </summary>
public sealed class DashboardTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task DemoRun_DashboardInChromium_ShowsThePipelinesGrainsAndGatewayServesWindows()
    {
        if (!File.Exists(ChromiumPath))
        {
            // CI installs it (.ci/run); elsewhere say plainly what is missing rather than pass without looking.
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (apt-get install chromium) to run the dashboard test");
        }
        await using var silo = await SiloProcess.StartAsync("--demo", "--Demo:ReviewsPerSecond=300");
        Assert.Contains("ReviewOrleans silo is up with the demo stream", silo.Output);

        using var channel = GrpcChannel.ForAddress(silo.GrpcAddress);
        var gateway = new ReviewGateway.ReviewGatewayClient(channel);
        await Eventually.Get(
            async () => await gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = "All" }),
            r => r.Windows.Count > 0 && r.Windows.Sum(w => w.Count) > 0, "the first closed window of the demo stream", TimeSpan.FromSeconds(60));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        var response = await page.GotoAsync(new Uri(silo.HttpAddress, "/dashboard/").ToString());
        Assert.True(response?.Ok, $"GET /dashboard/ answered {response?.Status}");

        // The Grains page lists every grain type with activations once the first counters arrive.
        await page.GetByText("Grains", new() { Exact = true }).First.ClickAsync();
        foreach (var text in new[] { "ReviewPartitionGrain", "CategoryGrain", "AnomalyGrain", "CountingGrain" })
        {
            await page.GetByText(text, new() { Exact = true }).First.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Path.GetTempPath(), "revieworleans-dashboard.png") });
    }
}

/// <summary>
/// The dashboard of a silo with API keys, in real headless Chromium: without credentials or with a wrong key the
/// browser is refused; with the key as the password of its login prompt, the page and every call its script makes go through.
/// </summary>
public sealed class KeyedDashboardTests
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string Key = "dashboard-key-for-the-browser-test";

    [Fact]
    public async Task KeyedSilo_DashboardInChromium_RefusedWithoutTheKey_ShowsItsGrainsWithIt()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (apt-get install chromium) to run the dashboard test");
        }
        await using var silo = await SiloProcess.StartAsync("--demo", "--Demo:ReviewsPerSecond=100", "--Gateway:BindAddress=0.0.0.0", $"--Gateway:ApiKeys:0={Key}");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var dashboard = new Uri(silo.HttpAddress, "/dashboard/").ToString();

        // Headless, the browser has no login prompt to show: it ends the navigation, or shows the 401 page.
        async Task<bool> Refused(string? password)
        {
            var options = password is null ? new BrowserNewContextOptions()
                : new BrowserNewContextOptions { HttpCredentials = new HttpCredentials { Username = "operator", Password = password } };
            var page = await (await browser.NewContextAsync(options)).NewPageAsync();
            try
            {
                return (await page.GotoAsync(dashboard))?.Status == 401;
            }
            catch (PlaywrightException ex) when (ex.Message.Contains("ERR_INVALID_AUTH_CREDENTIALS", StringComparison.Ordinal))
            {
                return true;
            }
        }
        Assert.True(await Refused(password: null), "the dashboard without credentials");
        Assert.True(await Refused(Key + "-not"), "the dashboard with a wrong key");

        var context = await browser.NewContextAsync(new BrowserNewContextOptions { HttpCredentials = new HttpCredentials { Username = "operator", Password = Key } });
        var page = await context.NewPageAsync();
        var failedCalls = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status == 401)
            {
                failedCalls.Add(response.Url);
            }
        };
        var response = await page.GotoAsync(dashboard);
        Assert.True(response?.Ok, $"GET /dashboard/ with the key answered {response?.Status}");
        await page.GetByText("Grains", new() { Exact = true }).First.ClickAsync();
        // The grain list arrives through the dashboard's own calls, which must carry the credentials too.
        await page.GetByText("ReviewPartitionGrain", new() { Exact = true }).First.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        Assert.Empty(failedCalls);
    }
}

/// <summary>The gateway as its own process, an Orleans client of a silo, serving the same gRPC service.</summary>
public sealed class StandaloneGatewayTests
{
    [Fact]
    public async Task StandaloneGateway_ReviewsSentThroughIt_ReachTheSilosWindows()
    {
        var serviceId = $"standalone-{Guid.NewGuid():N}";
        // Not the default queue count: the gateway must map streams onto the silo's queues, not Orleans' default 8.
        const string queues = "--Streams:Queues=4";
        await using var silo = await SiloProcess.StartAsync("--Dashboard:Enabled=false", $"--Cluster:ServiceId={serviceId}", queues);
        await using var gatewayProcess = await SiloProcess.StartGatewayAsync(silo, serviceId, queues);
        using var channel = GrpcChannel.ForAddress(gatewayProcess.GrpcAddress);
        var gateway = new ReviewGateway.ReviewGatewayClient(channel);
        var category = TestReviews.NewCategory("standalone");

        var response = await gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 50, seed: 41)));

        Assert.Equal(50, response.AcceptedRecordCount);
        using var siloChannel = GrpcChannel.ForAddress(silo.GrpcAddress);
        var cohosted = new ReviewGateway.ReviewGatewayClient(siloChannel);
        await Eventually.Get(
            async () => await cohosted.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category }),
            r => r.Windows.Sum(w => w.Count) == 50, "50 reviews in the silo's windows, read through the co-hosted gateway");
    }
}
