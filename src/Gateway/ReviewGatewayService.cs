using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Delivery;

namespace ReviewOrleans.Gateway;

/// <summary>
/// The gRPC face of the platform. Each call checks its fields, then maps onto one grain call or a fan-out; the
/// pipeline's logic stays in the grains and libraries.
/// </summary>
public sealed class ReviewGatewayService(
    IClusterClient cluster,
    ReviewIngestor ingestor,
    GatewayStreams streams,
    ScoredReviewStore scoredReviews,
    TimeProvider clock,
    IOptions<GatewayOptions> options) : ReviewGateway.ReviewGatewayBase
{
    private const int MaxWindows = 100_000;
    private readonly GatewayOptions _options = options.Value;

    public override Task<PutReviewsResponse> PutReviews(PutReviewsRequest request, ServerCallContext context)
    {
        if (request.Records.Count > _options.MaxBatchRecords)
        {
            throw Invalid("records", $"a batch holds at most {_options.MaxBatchRecords} records, got {request.Records.Count}");
        }
        return ingestor.IngestAsync(request.Records, includeAccepted: true, InvalidUtf8(context));
    }

    /// <summary>Failures listed in a stream's summary; more are counted.</summary>
    public const int MaxListedStreamFailures = 10_000;

    /// <summary>Bytes of listed failures in a stream's summary: it must fit a default client's 4 MB message limit.</summary>
    public const int MaxListedStreamFailureBytes = 3 * 1024 * 1024;

    public override async Task<PutReviewsResponse> PutReviewStream(IAsyncStreamReader<PutReviewsRequest> requestStream, ServerCallContext context)
    {
        var total = new PutReviewsResponse();
        var listedBytes = 0;
        await using var messages = requestStream.ReadAllAsync(context.CancellationToken).GetAsyncEnumerator(context.CancellationToken);
        while (await NextMessage(messages, total))
        {
            var request = messages.Current;
            var invalidUtf8 = InvalidUtf8(context);
            // An oversized message fails its own records, not the call: earlier messages are already published, and
            // their failures (some retryable) must reach the client.
            var response = request.Records.Count > _options.MaxBatchRecords
                ? TooManyRecords(request)
                : await ingestor.IngestAsync(request.Records, includeAccepted: false, invalidUtf8);
            total.AcceptedRecordCount += response.AcceptedRecordCount;
            total.FailedRecordCount += response.FailedRecordCount;
            foreach (var failure in response.Records)
            {
                var size = failure.CalculateSize() + 4; // with the field's tag and length
                if (total.Records.Count < MaxListedStreamFailures && listedBytes + size <= MaxListedStreamFailureBytes)
                {
                    total.Records.Add(failure);
                    listedBytes += size;
                }
                else
                {
                    total.UnlistedFailedRecordCount++;
                }
            }
        }
        return total;
    }

    /// <summary>What <see cref="GatewayRequestFrames"/> found in the message just read (nothing when the call did not pass it).</summary>
    private static List<InvalidUtf8Field> InvalidUtf8(ServerCallContext context) =>
        context.GetHttpContext().Features.Get<InvalidUtf8Findings>()?.Next() ?? [];

    /// <summary>A later message too large for the gateway ends the call; the answer says what was accepted before it.</summary>
    private static async Task<bool> NextMessage(IAsyncEnumerator<PutReviewsRequest> messages, PutReviewsResponse total)
    {
        try
        {
            return await messages.MoveNextAsync();
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"{ex.Status.Detail}; the {total.AcceptedRecordCount:N0} records accepted from earlier messages of this stream stay accepted"));
        }
    }

    private PutReviewsResponse TooManyRecords(PutReviewsRequest request)
    {
        var response = new PutReviewsResponse { FailedRecordCount = request.Records.Count };
        var message = $"records: a batch holds at most {_options.MaxBatchRecords} records, got {request.Records.Count}; none of this batch was ingested";
        response.Records.AddRange(request.Records.Select(r => new RecordResult
        {
            ReviewId = r.Review?.ReviewId ?? "",
            ErrorCode = "records.too_many",
            ErrorMessage = message,
        }));
        return response;
    }

    public override async Task<ListCategoriesResponse> ListCategories(ListCategoriesRequest request, ServerCallContext context)
    {
        var response = new ListCategoriesResponse();
        response.Categories.AddRange(await cluster.GetGrain<ICategoryDirectoryGrain>(0).List());
        return response;
    }

    public override async Task<GetCategorySentimentResponse> GetCategorySentiment(GetCategorySentimentRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Category))
        {
            throw Invalid("category", "is required (use \"All\" for every category)");
        }
        CheckCategoryLength(request.Category);
        var last = WindowCount(request.LastWindows, 12, "last_windows");
        // A category grain keeps itself active for its window timer, so asking for a name no review carried would
        // leave a grain ticking for good: such a name gets an empty answer without one.
        if (request.Category != StreamNames.AllCategories && !await cluster.GetGrain<ICategoryDirectoryGrain>(0).Contains(request.Category))
        {
            return new GetCategorySentimentResponse { Category = request.Category };
        }
        var history = await cluster.GetGrain<ICategoryGrain>(request.Category).GetHistory(last);
        var response = new GetCategorySentimentResponse { Category = history.Category, LateReviews = history.LateReviews };
        response.Windows.AddRange(history.Windows.Select(ApiMapping.ToApi));
        return response;
    }

    public override async Task<GetCountsResponse> GetCounts(GetCountsRequest request, ServerCallContext context)
    {
        var last = WindowCount(request.LastWindows, 12, "last_windows");
        return ApiMapping.ToApi(await cluster.GetGrain<ICountingGrain>("global").GetReport(last));
    }

    public override async Task<GetAnomalyResponse> GetAnomaly(GetAnomalyRequest request, ServerCallContext context)
    {
        var recent = WindowCount(request.RecentAlerts, 10, "recent_alerts");
        var statuses = await Task.WhenAll(Enumerable.Range(0, _options.EffectiveAnomalyShards)
            .Select(p => cluster.GetGrain<IAnomalyGrain>(p).GetStatus(recent)));
        var response = new GetAnomalyResponse
        {
            Profile = statuses[0].Profile,
            Grade = statuses.Max(s => s.Grade),
            Score = statuses.Max(s => s.Score),
            PointsSeen = statuses.Sum(s => s.PointsSeen),
        };
        response.Features.AddRange(statuses[0].Features);
        response.RecentAlerts.AddRange(statuses.SelectMany(s => s.RecentAlerts)
            .OrderByDescending(a => a.TimeMs).Take(recent).Select(ApiMapping.ToApi));
        return response;
    }

    public override async Task<GetClusterResponse> GetCluster(GetClusterRequest request, ServerCallContext context)
    {
        var hosts = await cluster.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false);
        var now = DateTime.UtcNow;
        var response = new GetClusterResponse();
        response.Silos.AddRange(hosts.OrderBy(h => h.SiloAddress.ToString(), StringComparer.Ordinal).Select(h => new ClusterSilo
        {
            Address = h.SiloAddress.ToString(),
            Name = h.SiloName ?? "",
            Status = h.Status.ToString(),
            StartedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(h.StartTime, DateTimeKind.Utc)),
            UptimeSeconds = h.Status == SiloStatus.Active ? Math.Max(0, (now - h.StartTime).TotalSeconds) : 0,
        }));
        var partitions = Task.WhenAll(Enumerable.Range(0, _options.Partitions).Select(p => cluster.GetGrain<IReviewPartitionGrain>(p).GetHost()));
        var shards = Task.WhenAll(Enumerable.Range(0, _options.EffectiveAnomalyShards).Select(s => cluster.GetGrain<IAnomalyGrain>(s).GetHost()));
        response.Placements.AddRange((await partitions).Select((silo, p) => new GrainPlacement { Kind = "partition", Key = p, Silo = silo }));
        response.Placements.AddRange((await shards).Select((silo, s) => new GrainPlacement { Kind = "anomaly-shard", Key = s, Silo = silo }));
        // Each active silo says which stream queues its agents read; one that cannot answer (dying) is left out.
        var active = hosts.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloAddress.ToString()).ToList();
        var queues = await Task.WhenAll(active.Select(async silo =>
        {
            try
            {
                return (Silo: silo, Queues: await cluster.GetGrain<ISiloStreamQueuesGrain>(silo).GetQueues().WaitAsync(TimeSpan.FromSeconds(5)));
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException) // SiloUnavailableException included
            {
                return (Silo: silo, Queues: new List<int>());
            }
        }));
        response.Placements.AddRange(queues.SelectMany(q => q.Queues.Select(queue => new GrainPlacement { Kind = "stream-queue", Key = queue, Silo = q.Silo }))
            .OrderBy(p => p.Key));
        return response;
    }

    public override async Task<ListPriorityReviewsResponse> ListPriorityReviews(ListPriorityReviewsRequest request, ServerCallContext context)
    {
        var limit = WindowCount(request.Limit, 50, "limit");
        var categories = string.IsNullOrEmpty(request.Category)
            ? await cluster.GetGrain<ICategoryDirectoryGrain>(0).List()
            : [await KnownCategory(request.Category)];
        var lists = await Task.WhenAll(categories.Select(c => cluster.GetGrain<IPriorityQueueGrain>(c).List(limit)));
        var response = new ListPriorityReviewsResponse();
        response.Reviews.AddRange(lists.SelectMany(l => l)
            .OrderBy(r => r.ExpectedStars).ThenBy(r => r.ReceivedMs).Take(limit).Select(ApiMapping.ToApi));
        return response;
    }

    public override async Task<AcknowledgeReviewResponse> AcknowledgeReview(AcknowledgeReviewRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.ReviewId))
        {
            throw Invalid("review_id", "is required");
        }
        var categories = string.IsNullOrEmpty(request.Category)
            ? await cluster.GetGrain<ICategoryDirectoryGrain>(0).List()
            : [await KnownCategory(request.Category)];
        foreach (var category in categories)
        {
            if (await cluster.GetGrain<IPriorityQueueGrain>(category).Acknowledge(request.ReviewId))
            {
                return new AcknowledgeReviewResponse { Acknowledged = true, Category = category };
            }
        }
        throw new RpcException(new Status(StatusCode.NotFound, $"review_id: no pending priority review '{request.ReviewId}'" +
            (string.IsNullOrEmpty(request.Category) ? "" : $" in category '{request.Category}'")));
    }

    public override async Task<ListDeadLettersResponse> ListDeadLetters(ListDeadLettersRequest request, ServerCallContext context)
    {
        var limit = WindowCount(request.Limit, 50, "limit");
        var page = await cluster.GetGrain<IDeadLetterGrain>(0).List(limit);
        var response = new ListDeadLettersResponse { Total = page.Total };
        response.DeadLetters.AddRange(page.DeadLetters.Select(ApiMapping.ToApi));
        return response;
    }

    public override async Task<QueryScoredReviewsResponse> QueryScoredReviews(QueryScoredReviewsRequest request, ServerCallContext context)
    {
        var query = scoredReviews.Query ?? throw new RpcException(new Status(StatusCode.FailedPrecondition,
            "scored reviews are not delivered to PostgreSQL here: set Delivery:PostgreSQL=true on the silos and this gateway (the cluster profile's default)"));
        CheckStars(request.StarRating, "star_rating");
        CheckStars(request.PredictedStars, "predicted_stars");
        var limit = request.Limit switch
        {
            0 => 100,
            < 0 or > ScoredReviewQuery.MaxLimit => throw Invalid("limit", $"must be between 1 and {ScoredReviewQuery.MaxLimit}, got {request.Limit}"),
            _ => request.Limit,
        };
        var since = request.Since?.ToDateTimeOffset() ?? clock.GetUtcNow().AddDays(-1);
        var until = request.Until?.ToDateTimeOffset();
        if (until <= since)
        {
            throw Invalid("until", $"must be after since ({since:O}), got {until:O}");
        }
        var filter = new ScoredReviewFilter(request.Category.Length > 0 ? request.Category : null,
            request.StarRating > 0 ? request.StarRating : null, request.PredictedStars > 0 ? request.PredictedStars : null,
            since.ToUnixTimeMilliseconds(), until?.ToUnixTimeMilliseconds(), limit);
        IReadOnlyList<ScoredReview> rows;
        try
        {
            rows = await query.RunAsync(filter, context.CancellationToken);
        }
        catch (Npgsql.NpgsqlException ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"the scored_reviews table cannot be read: {ex.Message}"));
        }
        var response = new QueryScoredReviewsResponse();
        response.Reviews.AddRange(rows.Select(ApiMapping.ToApi));
        return response;
    }

    private static void CheckStars(int stars, string field)
    {
        if (stars is < 0 or > 5)
        {
            throw Invalid(field, $"must be 1..5 (0: any), got {stars}");
        }
    }

    public override async Task<GetDeliveriesResponse> GetDeliveries(GetDeliveriesRequest request, ServerCallContext context)
    {
        var perShard = await Task.WhenAll(Enumerable.Range(0, _options.EffectiveAnomalyShards)
            .Select(s => cluster.GetGrain<IAnomalyGrain>(s).GetDeliveryStatus()));
        var response = new GetDeliveriesResponse();
        // Shards on one silo share its delivery: one entry per silo and destination.
        response.Destinations.AddRange(perShard.SelectMany(s => s)
            .DistinctBy(d => (d.Silo, d.Destination))
            .OrderBy(d => d.Silo, StringComparer.Ordinal).ThenBy(d => d.Destination, StringComparer.Ordinal)
            .Select(ApiMapping.ToApi));
        return response;
    }

    public override async Task<PutEventsResponse> PutEvents(IAsyncStreamReader<PutEventsRequest> requestStream, ServerCallContext context)
    {
        var total = new PutEventsResponse();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            // One call per source partition, in parallel; a partition's events stay in order.
            var results = await Task.WhenAll(request.Events.GroupBy(e => e.Partition).Select(partition =>
            {
                if (partition.Key.Length is 0 or > 256)
                {
                    throw Invalid("events.partition", $"must be 1 to 256 characters, got {partition.Key.Length}");
                }
                return cluster.GetGrain<IEventIngestGrain>(EventIngestKeys.Replay(partition.Key)).Ingest([.. partition.Select(e => new RawReviewEvent
                {
                    Source = "replay",
                    Partition = e.Partition,
                    Offset = e.Offset,
                    SequenceNumber = e.SequenceNumber,
                    EnqueuedTimeMs = now,
                    Body = e.Body.ToByteArray(),
                })]);
            }));
            total.Events += request.Events.Count;
            total.AcceptedReviews += results.Sum(r => r.Accepted);
            total.RefusedReviews += results.Sum(r => r.Refused);
        }
        return total;
    }

    public override async Task WatchMetrics(WatchMetricsRequest request, IServerStreamWriter<WindowMetrics> responseStream, ServerCallContext context)
    {
        using var lease = await streams.Metrics.WatchAsync();
        // Headers tell the client that the subscription is in place: what is published from now on reaches it.
        await context.WriteResponseHeadersAsync([]);
        await foreach (var window in lease.Reader.ReadAllAsync(context.CancellationToken))
        {
            if (request.Category.Length == 0 || request.Category == window.Category)
            {
                await responseStream.WriteAsync(ApiMapping.ToApi(window), context.CancellationToken);
            }
        }
    }

    public override async Task WatchAlerts(WatchAlertsRequest request, IServerStreamWriter<AlertNotice> responseStream, ServerCallContext context)
    {
        var notices = await streams.WatchNoticesAsync(context.CancellationToken);
        await context.WriteResponseHeadersAsync([]);
        await foreach (var notice in notices)
        {
            await responseStream.WriteAsync(notice, context.CancellationToken);
        }
    }

    public override async Task<GetAnomalyGradesResponse> GetAnomalyGrades(GetAnomalyGradesRequest request, ServerCallContext context)
    {
        var last = WindowCount(request.LastWindows, 720, "last_windows");
        var since = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)(last + 1) * (long)_options.WindowSize.TotalMilliseconds;
        var shards = await Task.WhenAll(Enumerable.Range(0, _options.EffectiveAnomalyShards)
            .Select(s => cluster.GetGrain<IAnomalyGrain>(s).GetGrades(since)));
        var response = new GetAnomalyGradesResponse();
        // Shards split the stream: a window's grade is the highest of any, its points the sum.
        response.Windows.AddRange(shards.SelectMany(s => s).GroupBy(w => w.StartMs).OrderBy(g => g.Key).TakeLast(last)
            .Select(g => ApiMapping.ToApi(new AnomalyGradeWindowRecord
            {
                StartMs = g.Key,
                EndMs = g.Max(w => w.EndMs),
                MaxGrade = g.Max(w => w.MaxGrade),
                MaxScore = g.Max(w => w.MaxScore),
                Points = g.Sum(w => w.Points),
                Detections = g.Sum(w => w.Detections),
            })));
        return response;
    }

    public override async Task<ListAlertsResponse> ListAlerts(ListAlertsRequest request, ServerCallContext context)
    {
        var limit = WindowCount(request.Limit, 50, "limit");
        var list = await cluster.GetGrain<IAlertGrain>(StreamNames.AllKey).List(limit);
        var response = new ListAlertsResponse();
        response.Firing.AddRange(list.Firing.Select(ApiMapping.ToApi));
        response.Recent.AddRange(list.Recent.Select(ApiMapping.ToApi));
        return response;
    }

    public override async Task<AlertRules> GetAlertRules(GetAlertRulesRequest request, ServerCallContext context)
    {
        var response = new AlertRules();
        response.Rules.AddRange((await cluster.GetGrain<IAlertGrain>(StreamNames.AllKey).GetRules()).Select(ApiMapping.ToApi));
        return response;
    }

    public override async Task<AlertRules> PutAlertRules(AlertRules request, ServerCallContext context)
    {
        List<AlertRuleRecord> rules;
        try
        {
            rules = await cluster.GetGrain<IAlertGrain>(StreamNames.AllKey).PutRules([.. request.Rules.Select(ApiMapping.FromApi)]);
        }
        catch (ArgumentException ex)
        {
            // The grain's checks name each rule and field ("rules[1] ('x').threshold: ...").
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message.Replace(" (Parameter 'rules')", "", StringComparison.Ordinal)));
        }
        var response = new AlertRules();
        response.Rules.AddRange(rules.Select(ApiMapping.ToApi));
        return response;
    }

    /// <summary>
    /// A category some review carried, else NotFound: asking for any other name would activate a priority queue
    /// grain for it, so that a client typing names could grow the silo as a producer sending them can.
    /// </summary>
    private async Task<string> KnownCategory(string category)
    {
        CheckCategoryLength(category);
        return await cluster.GetGrain<ICategoryDirectoryGrain>(0).Contains(category)
            ? category
            : throw new RpcException(new Status(StatusCode.NotFound, $"category: no review has carried category '{category}' (ListCategories names those that have)"));
    }

    private static void CheckCategoryLength(string category)
    {
        if (category.Length > ReviewValidator.MaxCategoryLength)
        {
            throw Invalid("category", $"has {category.Length} characters; at most {ReviewValidator.MaxCategoryLength} are allowed");
        }
    }

    private static int WindowCount(int requested, int defaultValue, string field) => requested switch
    {
        0 => defaultValue,
        < 0 or > MaxWindows => throw Invalid(field, $"must be between 1 and {MaxWindows}, got {requested}"),
        _ => requested,
    };

    private static RpcException Invalid(string field, string message) =>
        new(new Status(StatusCode.InvalidArgument, $"{field}: {message}"));
}
