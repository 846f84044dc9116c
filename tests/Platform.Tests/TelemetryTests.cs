using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Net.Client;
using ReviewOrleans.Contracts.Api;

namespace ReviewOrleans.Platform.Tests;

/// <summary>The Prometheus endpoint of a silo process, scraped after known reviews went through its gateway.</summary>
public sealed partial class TelemetryTests
{
    [Fact]
    public async Task Metrics_AfterKnownReviews_CountersAtTheValuesSent_HistogramsAndOrleansMetersPresent()
    {
        await using var silo = await SiloProcess.StartAsync("--Dashboard:Enabled=false");
        using var channel = GrpcChannel.ForAddress(silo.GrpcAddress);
        var gateway = new ReviewGateway.ReviewGatewayClient(channel);
        var category = TestReviews.NewCategory("telemetry");
        var reviews = TestReviews.Generate(category, 40, seed: 97);
        var request = TestReviews.Request(reviews);
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"t-empty","product_category":"{{category}}","star_rating":3,"review_body":""}""" });
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"t-stars","product_category":"{{category}}","star_rating":9,"review_body":"fine"}""" });

        var first = await gateway.PutReviewsAsync(request);
        var again = await gateway.PutReviewsAsync(TestReviews.Request(reviews.Take(3)));

        Assert.Equal(40, first.AcceptedRecordCount);
        Assert.Equal(3, again.AcceptedRecordCount); // taken by the gateway; the partition drops them as duplicates
        await Eventually.Get(async () => await gateway.GetCountsAsync(new GetCountsRequest()),
            c => c.TotalReviews == 40 && c.DuplicateReviews == 3, "40 reviews and 3 duplicates counted");

        using var http = new HttpClient { BaseAddress = silo.HttpAddress };
        var metrics = await Eventually.Get(() => http.GetStringAsync("/metrics"),
            text => Value(text, "revieworleans_reviews_accepted_total") == 40, "the accepted counter at 40");
        Assert.Equal(3, Value(metrics, "revieworleans_reviews_duplicates_total"));
        Assert.Equal(1, Value(metrics, "revieworleans_reviews_refused_total", """reason="review_body.required",stage="gateway"}"""));
        Assert.Equal(1, Value(metrics, "revieworleans_reviews_refused_total", """reason="star_rating.out_of_range",stage="gateway"}"""));
        Assert.Equal(40, Value(metrics, "revieworleans_latency_ingest_to_scored_milliseconds_count"));
        Assert.True(Value(metrics, "revieworleans_scoring_duration_milliseconds_count") >= 1);
        Assert.True(Value(metrics, "revieworleans_latency_ingest_to_window_milliseconds_count") >= 1);
        Assert.Contains("revieworleans_anomaly_grade{", metrics);
        Assert.Matches(OrleansMeter(), metrics);
    }

    /// <summary>The value of the first sample of <paramref name="name"/> whose labels end with <paramref name="labelsEnd"/>.</summary>
    private static double Value(string metrics, string name, string labelsEnd = "}")
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains(labelsEnd, StringComparison.Ordinal))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return double.NaN;
    }

    [GeneratedRegex(@"(?m)^orleans_\w+\{otel_scope_name=""Microsoft\.Orleans""")]
    private static partial Regex OrleansMeter();
}

/// <summary>A review batch's trace: the gateway's publish span is the parent of the partition's scoring span.</summary>
[Collection(PlatformCollection.Name)]
public sealed class TraceTests(PlatformClusterFixture fixture)
{
    [Fact]
    public async Task PutReviews_ScoringSpanOfThePartition_ChildOfTheGatewaysPublishSpan()
    {
        var activities = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Contracts.Telemetry.ReviewTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var category = TestReviews.NewCategory("traced");

        await fixture.Platform.Gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 1, seed: 98)));

        // Other tests of the collection publish too: this call's span is the one whose batch held this category's review.
        var (publish, score) = await Eventually.Get(() =>
        {
            var scoring = activities.Where(a => a.OperationName == "score reviews").ToList();
            var match = activities.Where(a => a.OperationName == "publish reviews")
                .Select(p => (Publish: p, Score: scoring.FirstOrDefault(s => s.ParentSpanId == p.SpanId && s.TraceId == p.TraceId)))
                .FirstOrDefault(pair => pair.Score is not null && pair.Publish.GetTagItem("revieworleans.reviews") is 1);
            return Task.FromResult(match);
        }, pair => pair.Score is not null, "a scoring span whose parent is this call's publish span");

        Assert.Equal(System.Diagnostics.ActivityKind.Producer, publish.Kind);
        Assert.Equal(System.Diagnostics.ActivityKind.Consumer, score!.Kind);
        Assert.Equal(publish.TraceId, score.TraceId);
        Assert.NotNull(score.GetTagItem("revieworleans.partition"));
    }
}
