using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;
using ReviewOrleans.Grains;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Platform.Tests;

[Collection(PlatformCollection.Name)]
public sealed class PipelineTests(PlatformClusterFixture fixture)
{
    private readonly PlatformCluster _platform = fixture.Platform;

    private async Task<GetCategorySentimentResponse> WaitForCount(string category, long expected)
    {
        return await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
        }, r => r.Windows.Sum(w => w.Count) >= expected, $"{expected} reviews in the windows of {category}");
    }

    [Fact]
    public async Task PutReviews_KnownReviews_WindowCountsAndAveragesEqualOwnComputation()
    {
        var category = TestReviews.NewCategory("known");
        var reviews = TestReviews.Generate(category, 300, seed: 11);
        var expected = TestReviews.Model.Score(reviews.Select(r => r.ReviewBody).ToList());

        var response = await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews));
        Assert.Equal(0, response.FailedRecordCount);
        Assert.Equal(300, response.AcceptedRecordCount);

        var history = await WaitForCount(category, 300);
        Assert.Equal(300, history.Windows.Sum(w => w.Count));
        Assert.Equal(expected.Sum(r => (double)r.ExpectedStars), history.Windows.Sum(w => w.SumExpectedStars), 3);
        for (var stars = 1; stars <= 5; stars++)
        {
            Assert.Equal(expected.Count(r => r.PredictedStars == stars), history.Windows.Sum(w => w.StarCounts[stars - 1]));
        }
        foreach (var window in history.Windows)
        {
            Assert.Equal(window.SumExpectedStars / window.Count, window.AverageExpectedStars, 9);
            Assert.Equal(1_000, window.WindowEndMs - window.WindowStartMs);
            Assert.Equal(0, window.WindowStartMs % 1_000);
        }
        // "All" aggregates every test's reviews, so it holds at least these.
        await WaitForCount(StreamNames.AllCategories, 300);
        Assert.Contains(category, (await _platform.Gateway.ListCategoriesAsync(new ListCategoriesRequest())).Categories);
    }

    [Fact]
    public async Task PutReviews_ResentReviews_CountedOnce()
    {
        var category = TestReviews.NewCategory("dup");
        var reviews = TestReviews.Generate(category, 60, seed: 12);
        var before = await _platform.Gateway.GetCountsAsync(new GetCountsRequest());

        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews));
        await WaitForCount(category, 60);
        var resent = await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews.Take(20)));
        Assert.Equal(20, resent.AcceptedRecordCount); // accepted at the gateway, dropped as duplicates by the partitions

        await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetCountsAsync(new GetCountsRequest());
        }, c => c.DuplicateReviews - before.DuplicateReviews >= 20, "20 duplicates counted");
        await _platform.FlushAsync(category);
        var history = await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = 1000 });
        Assert.Equal(60, history.Windows.Sum(w => w.Count));
        var counts = await _platform.Gateway.GetCountsAsync(new GetCountsRequest());
        Assert.Equal(60, counts.PerCategory[category]);
    }

    [Fact]
    public async Task PutReviews_NewReviews_EachReachesExactlyOneAnomalyForest()
    {
        // Partitions feed fewer forests than there are partitions (PlatformCluster: 4 partitions, 2 shards); the
        // forests' points must add up to the reviews accepted, so none is lost between shards or counted twice.
        var category = TestReviews.NewCategory("rcf");
        var reviews = TestReviews.Generate(category, 80, seed: 71);
        await _platform.FlushAsync(); // earlier tests' observations reach their forests before the baseline
        var before = await _platform.Gateway.GetAnomalyAsync(new GetAnomalyRequest());

        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews));

        var after = await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.GetAnomalyAsync(new GetAnomalyRequest());
        }, a => a.PointsSeen - before.PointsSeen >= 80, "80 more points in the anomaly forests");
        Assert.Equal(80, after.PointsSeen - before.PointsSeen);
    }

    [Fact]
    public async Task PutReviews_BadRecordsAmongGood_RejectedWithFieldAndRuleWhileGoodOnesPass()
    {
        var category = TestReviews.NewCategory("mixed");
        var good = TestReviews.Generate(category, 3, seed: 13);
        var request = TestReviews.Request(good.Take(1));
        request.Records.Add(new ReviewRecord { Json = """{"product_category":"x","review_body":"no id"}""" });
        request.Records.Add(new ReviewRecord { Json = "{not json" });
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"too-big","product_category":"{{category}}","review_body":"{{new string('a', 70_000)}}"}""" });
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"bad-stars","product_category":"{{category}}","review_body":"fine","star_rating":9}""" });
        request.Records.Add(new ReviewRecord { ReferenceTsv = $"{good[1].ReviewId}\t{category}\t{good[1].ReviewBody}" });
        request.Records.Add(new ReviewRecord { ReferenceTsv = "only-two\tfields" });
        request.Records.Add(new ReviewRecord { Review = Contracts.Reviews.ReviewApi.ToApi(good[2]) });
        var inTwoHours = DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeMilliseconds(); // checked against the gateway's clock
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"future","product_category":"{{category}}","review_body":"fine","event_time":{{inTwoHours}}}""" });

        var response = await _platform.Gateway.PutReviewsAsync(request);

        Assert.Equal(6, response.FailedRecordCount);
        Assert.Equal(3, response.AcceptedRecordCount);
        Assert.Equal(
            ["", "review_id.required", "record.invalid_json", "review_body.too_long", "star_rating.out_of_range", "", "record.bad_tsv", "", "event_time.in_future"],
            response.Records.Select(r => r.ErrorCode));
        Assert.Contains("review_id", response.Records[1].ErrorMessage);
        Assert.Contains("64 KiB", response.Records[3].ErrorMessage);

        await WaitForCount(category, 3);
        var deadLetters = await _platform.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 10_000 });
        Assert.Contains(deadLetters.DeadLetters, d => d.ReviewId == "bad-stars" && d.Field == "star_rating" && d.Stage == "gateway");
        Assert.Contains(deadLetters.DeadLetters, d => d.Raw == "only-two\tfields" && d.Rule == "bad_tsv");
    }

    [Fact]
    public async Task PutReviews_ControlCharactersAndNul_RefusedWithTheRuleAndDeadLettered()
    {
        var category = TestReviews.NewCategory("control");
        // The generator's ids depend on its seed only, and this cluster is shared: ids of this test's own.
        var good = TestReviews.Generate(category, 1, seed: 31);
        good[0].ReviewId = $"{category}-good";
        var request = TestReviews.Request(good);
        // A category with a stray control character would become a category of its own, and U+0000 cannot be stored.
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"ctl-category","product_category":"{{category}}\u0001","review_body":"fine"}""" });
        request.Records.Add(new ReviewRecord { Json = $$"""{"review_id":"nul-body","product_category":"{{category}}","review_body":"fine\u0000"}""" });
        var viaProto = Contracts.Reviews.ReviewApi.ToApi(TestReviews.Generate(category, 2, seed: 32)[1]);
        viaProto.ReviewId = $"{category}-bad-source";
        viaProto.Source = "email\n";
        request.Records.Add(new ReviewRecord { Review = viaProto });

        var response = await _platform.Gateway.PutReviewsAsync(request);

        Assert.Equal(["", "product_category.control_character", "review_body.nul_character", "source.control_character"],
            response.Records.Select(r => r.ErrorCode));
        Assert.Contains("U+0001", response.Records[1].ErrorMessage);
        var deadLetters = await Eventually.Get(async () =>
        {
            await _platform.FlushAsync(category);
            return await _platform.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 10_000 });
        }, d => d.DeadLetters.Any(x => x.ReviewId == "ctl-category") && d.DeadLetters.Any(x => x.ReviewId == "nul-body"), "both refusals in the dead letters");
        Assert.Contains(deadLetters.DeadLetters, d => d.ReviewId == "ctl-category" && d.Rule == "control_character" && d.Stage == "gateway");
        Assert.Contains(deadLetters.DeadLetters, d => d.ReviewId == "nul-body" && d.Rule == "nul_character");
        Assert.DoesNotContain(category + "\u0001", (await _platform.Gateway.ListCategoriesAsync(new ListCategoriesRequest())).Categories);
    }

    [Fact]
    public async Task ReviewsStream_UndecodableBatchFromAnotherProducer_DeadLetteredAndThePartitionGoesOn()
    {
        var category = TestReviews.NewCategory("foreign");
        var reviews = TestReviews.Generate(category, 5, seed: 17);
        var partition = Contracts.Grains.StreamNames.PartitionOf(reviews[0].ReviewId, PlatformCluster.Partitions);
        var stream = _platform.Cluster.Client.GetStreamProvider(Contracts.Grains.StreamNames.Provider)
            .GetStream<Contracts.Reviews.ReviewBatch>(Orleans.Runtime.StreamId.Create(Contracts.Grains.StreamNames.Reviews, partition));
        var truncated = Contracts.Reviews.ReviewBatchEncoding.Encode(reviews)[..^3];

        await stream.OnNextAsync(new Contracts.Reviews.ReviewBatch { Payload = truncated, Count = 5 });
        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews)); // same reviews, the gateway's way

        await WaitForCount(category, 5);
        var deadLetters = await Eventually.Get(
            async () => await _platform.Gateway.ListDeadLettersAsync(new ListDeadLettersRequest { Limit = 10_000 }),
            d => d.DeadLetters.Any(x => x.Stage == "stream" && x.Rule == "decode"), "the undecodable batch's dead letter");
        var letter = deadLetters.DeadLetters.First(x => x.Stage == "stream" && x.Rule == "decode");
        Assert.Equal("batch", letter.Field);
        Assert.StartsWith("5 reviews lost: review batch: ", letter.Message);
    }

    [Fact]
    public async Task DeadLetters_SentAgainAfterAFailedCall_StoredAndCountedOnce()
    {
        // A store of its own (the pipeline uses key 0), so that no other test's dead letters arrive meanwhile.
        var store = _platform.Grains.GetGrain<IDeadLetterGrain>(Random.Shared.NextInt64(1, long.MaxValue));
        var marker = Guid.NewGuid().ToString("N");
        List<DeadLetterRecord> letters = [.. Enumerable.Range(0, 3).Select(i => new DeadLetterRecord { ReviewId = $"{marker}-{i}", Field = "review_body", Rule = "required", Stage = "test" })];
        var before = (await store.List(0)).Total;

        await Task.WhenAll(store.Add(letters), store.Add(letters)); // the second, as a sender's retry
        await store.Add([letters[1]]);

        var page = await store.List(10_000);
        Assert.Equal(0, before);
        Assert.Equal(3, page.Total);
        Assert.Equal(letters.Select(d => d.ReviewId), page.DeadLetters.Select(d => d.ReviewId).Reverse());
    }

    [Fact]
    public async Task CategoryPartials_OneMalformed_DeadLetteredWhileTheOthersAreMerged()
    {
        var category = TestReviews.NewCategory("partial");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var start = now - (now % 1_000);
        CategoryPartial Partial(long count, double sum, long[] stars) =>
            new() { Category = category, WindowStartMs = start, MaxTimestampMs = start, Count = count, SumExpectedStars = sum, StarCounts = stars };

        // As a partition does, so that the gateway knows the category.
        await _platform.Grains.GetGrain<ICategoryDirectoryGrain>(0).Register([category]);
        await _platform.Grains.GetGrain<ICategoryGrain>(category).MergePartials(new LogRange(1_000, 0, 1),
            [Partial(2, 9, [0, 0, 0, 1, 1]), Partial(3, double.NaN, [0, 0, 3, 0, 0]), Partial(1, 1, [1, 0, 0, 0, 0])]);

        var history = await WaitForCount(category, 3);
        Assert.Equal(3, history.Windows.Sum(w => w.Count));
        Assert.Equal(10, history.Windows.Sum(w => w.SumExpectedStars), 9);
        var letters = await _platform.Grains.GetGrain<IDeadLetterGrain>(0).List(10_000);
        var letter = Assert.Single(letters.DeadLetters, d => d.Message.Contains($"category '{category}'"));
        Assert.Equal(("window", "partial", "invalid"), (letter.Stage, letter.Field, letter.Rule));
        Assert.Contains("finite", letter.Message);
    }

    [Fact]
    public async Task Receivers_LogRanges_EachRowAppliedOnceAndGapsOrOverlapsRefusedWithTheMark()
    {
        var category = TestReviews.NewCategory("ledger");
        var source = TestReviews.NewCategory("ledger-source");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var start = now - (now % 1_000);
        var windows = _platform.Grains.GetGrain<ICategoryGrain>(category);
        var counts = _platform.Grains.GetGrain<ICountingGrain>("global");
        var forest = _platform.Grains.GetGrain<IAnomalyGrain>(1_000); // no partition feeds this shard
        List<CategoryPartial> Partials() =>
            [new() { Category = category, WindowStartMs = start, MaxTimestampMs = start, Count = 2, SumExpectedStars = 9, StarCounts = [0, 0, 0, 1, 1] }];
        // Each delivery also carries something its receiver refuses, which must not stop the rest from being applied
        // whole (and the mark recorded): an undecodable distinct counter, an observation with a NaN feature.
        CountDelta Delta() => new() { PerSource = { [source] = 5 }, DistinctPerWindow = { [start] = [0xFF, 0x01] } };
        List<AnomalyObservation> Observations() =>
        [
            .. Enumerable.Range(0, 3).Select(i => new AnomalyObservation { ReviewId = $"{category}-{i}", Category = category, Features = [4, 3, 0, 0, 0.1] }),
            new AnomalyObservation { ReviewId = $"{category}-nan", Category = category, Features = [4, double.NaN, 0, 0, 0.1] },
        ];
        const long Partition = 2_000;
        await _platform.Grains.GetGrain<ICategoryDirectoryGrain>(0).Register([category]); // as a partition does

        async Task<DeliveryReceipt[]> Deliver(LogRange range) =>
        [
            await windows.MergePartials(range, Partials()),
            await counts.Add(range, Delta()),
            await forest.Observe(range, Observations()),
        ];

        // Rows 1..2, then the same delivery again (a retried call) and a replay that ends within what is applied.
        foreach (var range in new[] { new LogRange(Partition, 0, 2), new LogRange(Partition, 0, 2), new LogRange(Partition, 1, 2) })
        {
            Assert.All(await Deliver(range), r => Assert.Equal((true, 2L), (r.Accepted, r.AppliedThrough)));
        }
        // A gap (the sender believes rows 3..4 were applied) and an overlap are refused, nothing applied, with the mark.
        foreach (var range in new[] { new LogRange(Partition, 4, 6), new LogRange(Partition, 1, 3) })
        {
            Assert.All(await Deliver(range), r => Assert.Equal((false, 2L), (r.Accepted, r.AppliedThrough)));
        }
        Assert.All(await Deliver(new LogRange(Partition, 2, 3)), r => Assert.Equal((true, 3L), (r.Accepted, r.AppliedThrough)));
        Assert.False(LogRange.Unsequenced.IsSequenced);
        await counts.Add(LogRange.Unsequenced, Delta());
        await counts.Add(LogRange.Unsequenced, Delta());

        var history = await WaitForCount(category, 4);
        Assert.Equal(4, history.Windows.Sum(w => w.Count)); // rows (0, 2] and (2, 3]
        var report = await counts.GetReport(0);
        Assert.Equal(4 * 5, report.PerSource[source]); // two ranges, two unsequenced
        Assert.Equal(6, (await forest.GetStatus(0)).PointsSeen);
    }

    [Fact]
    public async Task AnomalyGrain_SavedForestUnreadable_StartsANewModelAndKeepsLearning()
    {
        // A forest saved in a format this build does not read (a newer build's, after a rollback) used to fail every
        // activation of the shard, so its partitions' observations piled up until dropped.
        const long Shard = 1_001; // no partition feeds this shard
        var newer = new Analytics.Forest.RandomCutForest(new Analytics.Forest.RandomCutForestOptions { Dimensions = 5 }).ToBytes();
        newer[4] = 99;
        var silo = _platform.Cluster.Primary as InProcessSiloHandle ?? throw new InvalidOperationException("the test cluster runs its silos in process");
        var storage = silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var grainId = GrainId.Create(GrainType.Create("anomaly"), GrainIdKeyExtensions.CreateIntegerKey(Shard));
        await storage.WriteStateAsync("anomaly-model", grainId, new GrainState<AnomalyState>(new AnomalyState
        {
            Profile = AnomalyFeatures.DefaultProfile,
            Forest = newer,
            Grader = new Analytics.Forest.AnomalyGrader().ToBytes(),
        }));

        var forest = _platform.Grains.GetGrain<IAnomalyGrain>(Shard);
        var category = TestReviews.NewCategory("unreadable");
        await forest.Observe(new LogRange(3_000, 0, 1),
            [.. Enumerable.Range(0, 4).Select(i => new AnomalyObservation { ReviewId = $"{category}-{i}", Category = category, Features = [4, 3, 0, 0, 0.1] })]);
        Assert.Equal(4, (await forest.GetStatus(0)).PointsSeen);
    }

    [Fact]
    public async Task PriorityQueue_LogRanges_EachReviewQueuedOnce()
    {
        var category = TestReviews.NewCategory("prio-ranges");
        var queue = _platform.Grains.GetGrain<IPriorityQueueGrain>(category);
        PriorityReviewRecord Record(int i) => new() { ReviewId = $"{category}-{i}", Category = category, PredictedStars = 1, ExpectedStars = 1 + i / 100.0, ReviewBody = "broke", ReceivedMs = i };
        List<PriorityReviewRecord> Records(int from) => [.. Enumerable.Range(from, 10).Select(Record)];

        // Sixteen partitions deliver their first log row at once; then one delivers it again (a call that failed
        // after the queue took it), and one skips a row.
        var receipts = await Task.WhenAll(Enumerable.Range(0, 16).Select(p => queue.Enqueue(new LogRange(20_000 + p, 0, 1), Records(p * 10))));
        Assert.All(receipts, r => Assert.Equal((true, 1L), (r.Accepted, r.AppliedThrough)));
        var again = await queue.Enqueue(new LogRange(20_000, 0, 1), Records(0));
        Assert.Equal((true, 1L), (again.Accepted, again.AppliedThrough));
        var gap = await queue.Enqueue(new LogRange(20_001, 2, 3), Records(500));
        Assert.Equal((false, 1L), (gap.Accepted, gap.AppliedThrough));
        // The same review from another partition's next row (a client sent it to two gateways) is queued once.
        Assert.True((await queue.Enqueue(new LogRange(20_002, 1, 2), Records(0))).Accepted);

        var listed = await queue.List(1_000);
        Assert.Equal(160, listed.Count);
        Assert.Equal(160, listed.Select(r => r.ReviewId).Distinct().Count());
        Assert.Equal(Record(0).ReviewId, listed[0].ReviewId); // most urgent first
    }

    [Fact]
    public async Task PutReviews_NegativeReview_QueuedForAttentionUntilAcknowledged()
    {
        var category = TestReviews.NewCategory("prio");
        var reviews = TestReviews.Generate(category, 2, seed: 14);
        reviews[0].ReviewBody = "Terrible product, it broke after two days. Worst purchase ever, I want a refund.";
        reviews[1].ReviewBody = "Excellent quality, absolutely love it, highly recommend!";

        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(reviews));
        var queued = await Eventually.Get(async () =>
        {
            await _platform.FlushAsync();
            // Until a partition has taken the first review of the category, the gateway does not know it (NotFound).
            return (await _platform.Gateway.ListCategoriesAsync(new ListCategoriesRequest())).Categories.Contains(category)
                ? await _platform.Gateway.ListPriorityReviewsAsync(new ListPriorityReviewsRequest { Category = category })
                : new ListPriorityReviewsResponse();
        }, r => r.Reviews.Count > 0, "the negative review in the priority queue");

        var item = Assert.Single(queued.Reviews);
        Assert.Equal(reviews[0].ReviewId, item.ReviewId);
        Assert.True(item.PredictedStars <= 2);

        var ack = await _platform.Gateway.AcknowledgeReviewAsync(new AcknowledgeReviewRequest { ReviewId = item.ReviewId });
        Assert.Equal(category, ack.Category);
        Assert.Empty((await _platform.Gateway.ListPriorityReviewsAsync(new ListPriorityReviewsRequest { Category = category })).Reviews);
        var again = await Assert.ThrowsAsync<RpcException>(async () =>
            await _platform.Gateway.AcknowledgeReviewAsync(new AcknowledgeReviewRequest { ReviewId = item.ReviewId, Category = category }));
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task ClusterHealthCheck_ClusterUp_HealthyNamingTheActiveSilos()
    {
        var check = new Gateway.ClusterHealthCheck(_platform.Cluster.Client);
        var result = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, result.Status);
        Assert.EndsWith("active silo(s)", result.Description);
    }

    [Fact]
    public async Task PutReviewStream_OversizedMessageAmongGood_FailsOnlyItsRecordsAndTheSummaryStaysBounded()
    {
        // An oversized message used to end the call with INVALID_ARGUMENT, losing the summary of what went before.
        var category = TestReviews.NewCategory("oversized");
        // Seeds no other test uses: the generator's ids depend on the seed alone, and the partitions drop re-sent ids.
        var good = TestReviews.Generate(category, 4, seed: 19);
        var oversized = TestReviews.Generate(category, 10_001, seed: 20);

        using var call = _platform.Gateway.PutReviewStream();
        await call.RequestStream.WriteAsync(TestReviews.Request(good.Take(2)));
        await call.RequestStream.WriteAsync(TestReviews.Request(oversized));
        await call.RequestStream.WriteAsync(TestReviews.Request(good.Skip(2)));
        await call.RequestStream.CompleteAsync();
        var summary = await call;

        Assert.Equal(4, summary.AcceptedRecordCount);
        Assert.Equal(10_001, summary.FailedRecordCount);
        Assert.Equal(10_000, summary.Records.Count);
        Assert.Equal(1, summary.UnlistedFailedRecordCount);
        Assert.All(summary.Records, r => Assert.Equal("records.too_many", r.ErrorCode));
        Assert.Equal(oversized[0].ReviewId, summary.Records[0].ReviewId);
        await WaitForCount(category, 4);
    }

    [Fact]
    public async Task PutReviewStream_ManyBatches_OneSummaryWithOnlyTheFailures()
    {
        var category = TestReviews.NewCategory("stream");
        var reviews = TestReviews.Generate(category, 90, seed: 16);
        reviews[45].ReviewBody = "";

        using var call = _platform.Gateway.PutReviewStream();
        foreach (var chunk in reviews.Chunk(30))
        {
            await call.RequestStream.WriteAsync(TestReviews.Request(chunk));
        }
        await call.RequestStream.CompleteAsync();
        var summary = await call;

        Assert.Equal(89, summary.AcceptedRecordCount);
        Assert.Equal(1, summary.FailedRecordCount);
        var failure = Assert.Single(summary.Records);
        Assert.Equal((reviews[45].ReviewId, "review_body.required"), (failure.ReviewId, failure.ErrorCode));
        await WaitForCount(category, 89);
    }

    [Fact]
    public async Task GetCategorySentiment_UnknownCategory_EmptyWithoutActivatingAGrain()
    {
        // A category grain keeps itself active for its window timer: a typo must not leave one ticking for good.
        var category = TestReviews.NewCategory("never-sent");
        var response = await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category });
        Assert.Equal(category, response.Category);
        Assert.Empty(response.Windows);
        var active = await _platform.Grains.GetGrain<IManagementGrain>(0).GetActiveGrains(GrainType.Create("category"));
        Assert.DoesNotContain(active, id => id.Key.ToString() == category);
    }

    [Theory]
    [InlineData("", 0, "category")]
    [InlineData("x", -1, "last_windows")]
    [InlineData("a-category-name-that-is-longer-than-the-sixty-four-characters-allowed", 0, "category")]
    public async Task GetCategorySentiment_InvalidField_InvalidArgumentNamingField(string category, int last, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _platform.Gateway.GetCategorySentimentAsync(new GetCategorySentimentRequest { Category = category, LastWindows = last }));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith(field + ":", ex.Status.Detail);
    }

    [Fact]
    public async Task WatchMetrics_WhileReviewsArrive_StreamsTheCategorysClosedWindows()
    {
        var category = TestReviews.NewCategory("watch");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var call = _platform.Gateway.WatchMetrics(new WatchMetricsRequest { Category = category }, cancellationToken: cancel.Token);
        // The subscription is in place once the call's headers arrive.
        await call.ResponseHeadersAsync;

        await _platform.Gateway.PutReviewsAsync(TestReviews.Request(TestReviews.Generate(category, 40, seed: 15)));
        var seen = 0L;
        await foreach (var window in call.ResponseStream.ReadAllAsync(cancel.Token))
        {
            Assert.Equal(category, window.Category);
            seen += window.Count;
            if (seen >= 40)
            {
                break;
            }
        }
        Assert.Equal(40, seen);
    }
}
