using System.Text.Json;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Playwright;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Synthetic;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// The business dashboard at / in real headless Chromium, against a silo process bound beyond loopback with a key:
/// refused without the key, then the categories' averages as sent, an anomaly alert with its attribution firing and
/// resolving, and a priority review acknowledged from the page. Screenshots at desktop and phone width are saved
/// under the test output's screenshots/ folder.
/// </summary>
public sealed class BusinessDashboardTests
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string Key = "business-dashboard-key-for-the-browser-test";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Dashboard_InChromium_ShowsSentAverages_AlertFiresAndResolves_AcknowledgeRemovesTheReview()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (apt-get install chromium) to run the dashboard test");
        }
        await using var silo = await SiloProcess.StartAsync("--Dashboard:Enabled=false", "--Gateway:BindAddress=0.0.0.0", $"--Gateway:ApiKeys:0={Key}",
            "--Pipeline:WindowSize=00:00:01", "--Pipeline:AllowedLateness=00:00:00.500", "--Alerts:EvaluationDelay=00:00:01");
        using var channel = GrpcChannel.ForAddress(silo.GrpcAddress);
        var gateway = new ReviewGateway.ReviewGatewayClient(channel.Intercept(m => { m.Add("authorization", $"Bearer {Key}"); return m; }));
        // The rules through the API, replacing the configured defaults: one anomaly rule for this test.
        await gateway.PutAlertRulesAsync(new AlertRules { Rules = { new AlertRule { Name = "anomaly", Kind = "anomaly_grade", Threshold = 0.5, Windows = 1 } } });

        // Known reviews in two categories of the test's own; the model scores them here too, for the expected averages.
        var kitchen = TestReviews.NewCategory("Kitchen");
        var books = TestReviews.NewCategory("Books");
        var sent = TestReviews.Generate(kitchen, 150, seed: 5).Concat(TestReviews.Generate(books, 150, seed: 6)).ToList();
        Assert.Equal(300, (await gateway.PutReviewsAsync(TestReviews.Request(sent))).AcceptedRecordCount);
        var scores = TestReviews.Model.Score(sent.ConvertAll(r => r.ReviewBody));
        var expected = sent.Select((r, i) => (r.ProductCategory, Stars: (double)scores[i].ExpectedStars))
            .GroupBy(x => x.ProductCategory).ToDictionary(g => g.Key, g => g.Average(x => x.Stars));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var home = silo.HttpAddress.ToString();

        // Without the key: sent to the login page, and the data behind the page is refused; a wrong key is told so.
        var stranger = await (await browser.NewContextAsync()).NewPageAsync();
        await stranger.GotoAsync(home);
        Assert.EndsWith("/login", stranger.Url, StringComparison.Ordinal);
        Assert.Equal(401, (await stranger.APIRequest.GetAsync(new Uri(silo.HttpAddress, "/v1/categories").ToString())).Status);
        await stranger.FillAsync("#key", Key + "-wrong");
        await stranger.ClickAsync("#login-submit");
        await stranger.Locator("#login-error").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });

        // With it: the login page takes the key into a cookie, and every call the page makes goes through.
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        var refused = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status == 401)
            {
                refused.Add(response.Url);
            }
        };
        await page.GotoAsync(home);
        await page.FillAsync("#key", Key);
        await page.ClickAsync("#login-submit");
        await page.WaitForFunctionAsync("() => window.dashboard && window.dashboard.ready", null, new PageWaitForFunctionOptions { Timeout = (float)Wait.TotalMilliseconds });

        // Each category's line carries the averages of what was sent: its windows' count-weighted mean is the mean of
        // the model's expected stars over the reviews sent (however the windows split them).
        foreach (var category in new[] { kitchen, books })
        {
            var points = await WaitForSeriesAsync(page, category, 150);
            var weighted = points.Sum(p => p.Average * p.Count) / points.Sum(p => p.Count);
            Assert.Equal(expected[category], weighted, 4);
            var truth = await gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 100 });
            Assert.Equal(truth.Windows.Select(w => (w.WindowStartMs, w.Count, Math.Round(w.AverageExpectedStars, 9))),
                points.Select(p => (p.StartMs, p.Count, Math.Round(p.Average, 9))));
        }
        await page.Locator("#category-picker input[data-category]").First.WaitForAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-sentiment-desktop.png"), FullPage = true });

        // An anomaly burst after the forest has learnt ordinary traffic: the alert fires with its attribution, then,
        // with ordinary reviews flowing on, resolves.
        using var stopSending = new CancellationTokenSource();
        var ordinary = SendOrdinaryAsync(gateway, TestReviews.NewCategory("Traffic"), stopSending.Token);
        try
        {
            await Eventually.Get(async () => await gateway.GetAnomalyAsync(new GetAnomalyRequest()), a => a.PointsSeen >= 1_500,
                "the forest learning ordinary traffic", Wait);
            var burst = new SyntheticReviewGenerator(seed: 9).Inject(InjectedAnomaly.Malformed, 200)
                .Concat(new SyntheticReviewGenerator(seed: 10).Inject(InjectedAnomaly.OneStarBurst, 500)).ToList();
            await gateway.PutReviewsAsync(TestReviews.Request(burst));

            await page.ClickAsync("nav button[data-page=anomalies]");
            var firing = page.Locator("#alerts-list tr[data-alert-id^='anomaly/']").First;
            await firing.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
            var alertId = await firing.GetAttributeAsync("data-alert-id");
            await page.Locator("#latest-attribution tr[data-feature]").First.WaitForAsync();
            var attribution = await gateway.ListAlertsAsync(new ListAlertsRequest());
            Assert.NotEmpty(attribution.Recent.Single(a => a.Id == alertId).Attribution);
            Assert.True(await page.Locator("#latest-attribution tr[data-feature]").CountAsync() >= 1);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-anomalies-desktop.png"), FullPage = true });
            await page.Locator($"#alerts-list tr[data-alert-id='{alertId}'][data-state=resolved]")
                .WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
        }
        finally
        {
            await stopSending.CancelAsync();
            await ordinary;
        }

        // A customer needing attention, acknowledged from the page: gone from the page and from the gateway's queue.
        var queued = await Eventually.Get(async () => await gateway.ListPriorityReviewsAsync(new ListPriorityReviewsRequest { Category = kitchen, Limit = 200 }),
            r => r.Reviews.Count > 0, "a Kitchen review in the priority queue", Wait);
        var target = queued.Reviews[0];
        await page.ClickAsync("nav button[data-page=attention]");
        var row = page.Locator($"#priority-list tr[data-review-id='{target.ReviewId}']");
        await row.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
        await row.Locator("button.ack").ClickAsync();
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        var after = await gateway.ListPriorityReviewsAsync(new ListPriorityReviewsRequest { Category = kitchen, Limit = 200 });
        Assert.DoesNotContain(after.Reviews, r => r.ReviewId == target.ReviewId);
        Assert.Equal(queued.Reviews.Count - 1, after.Reviews.Count);
        Assert.Empty(refused);

        // Phone width: one column, readable without sideways scrolling of the page.
        await page.SetViewportSizeAsync(375, 812);
        await page.ClickAsync("nav button[data-page=sentiment]");
        // The charts follow the width as the page's resize handling catches up.
        try
        {
            await page.WaitForFunctionAsync("() => document.documentElement.scrollWidth <= window.innerWidth + 1", null,
                new PageWaitForFunctionOptions { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            var wide = await page.EvaluateAsync<string>("""
                () => `scrollWidth ${document.documentElement.scrollWidth}, inner ${window.innerWidth}: ` + [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.parentElement.closest('.table-wrap'))
                    .slice(0, 8).map(e => `${e.tagName}#${e.id}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`).join('; ')
                """);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-sentiment-phone.png"), FullPage = true });
            Assert.Fail($"the page scrolls sideways at 375 px; wider than the screen: {wide}");
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-sentiment-phone.png"), FullPage = true });
    }

    private sealed record Point(long StartMs, long Count, double Average);

    /// <summary>The page's points of <paramref name="category"/> once they hold <paramref name="reviews"/> reviews.</summary>
    private static async Task<List<Point>> WaitForSeriesAsync(IPage page, string category, int reviews)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var json = await page.EvaluateAsync<string>("c => JSON.stringify((window.dashboard.series[c] || []).map(p => [p.startMs, p.count, p.average]))", category);
            var points = JsonSerializer.Deserialize<List<JsonElement[]>>(json)!
                .Select(p => new Point(p[0].GetInt64(), p[1].GetInt64(), p[2].GetDouble())).ToList();
            if (points.Sum(p => p.Count) >= reviews)
            {
                Assert.Equal(reviews, points.Sum(p => p.Count));
                return points;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the page held {points.Sum(p => p.Count)} of the {reviews} reviews sent to {category}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Ordinary reviews at about 300 a second until cancelled.</summary>
    private static async Task SendOrdinaryAsync(ReviewGateway.ReviewGatewayClient gateway, string category, CancellationToken stop)
    {
        var seed = 100;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 30, seed++)), cancellationToken: stop);
                await Task.Delay(100, stop);
            }
        }
        catch (Exception ex) when (stop.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
        }
    }

    private static string Screenshot(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
