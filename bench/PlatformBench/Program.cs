using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using ReviewOrleans.Analytics.Counting;
using ReviewOrleans.Analytics.Dedup;
using ReviewOrleans.Analytics.Forest;
using ReviewOrleans.Analytics.Windows;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Grains;
using ReviewOrleans.Hosting;
using ReviewOrleans.Sentiment;
using ReviewOrleans.Silo;
using ReviewOrleans.Synthetic;

// End-to-end benchmark: reviews through the gRPC gateway, the "reviews" stream, scoring, the forests, the counts and
// window emission, side by side with a bare single-threaded loop doing the same parse, score and aggregate work (the
// ceiling); for short template reviews and for reviews of realistic length, one fresh silo each, in one run.
// Usage: dotnet run -c Release --project bench/PlatformBench -- [--reviews N] [--batch B] [--concurrency C] [--half-load-seconds S]
//        [--trees T] [--half-load-rate R] [--partitions P] [--anomaly-shards A] [--anomaly-threads N] [--lengths short|realistic|both]
//        [--silo-process] [--allocations] [--cluster N[,M...]] [--delivery postgres[,files]] [--postgres CS]
// --cluster runs the platform as deploy/local-cluster.sh does instead: N silo processes and the standalone gateway on a
// throwaway PostgreSQL, durable streams (the cluster profile), one fresh cluster per size and review shape.
// --delivery measures what delivering the scored reviews costs: each shape runs twice on fresh silos, first delivering
// to the listed destinations (buffered 1 MB or 1 s), with "delivered to every destination" as one more stage, then
// with delivery off. Its
// PostgreSQL destination is a throwaway database on the server of --postgres CS, else of REVIEWORLEANS_POSTGRES.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"PlatformBench: {ex.Message}");
    return 2;
}
Console.WriteLine($"ReviewOrleans platform benchmark: {options.Reviews:N0} reviews, batches of {options.Batch}, {options.Concurrency} calls in flight, {options.Partitions} partitions, {Math.Min(options.AnomalyShards, options.Partitions)} anomaly shards on {options.AnomalyThreads} thread(s) each, review lengths {string.Join(" and ", options.Lengths.Select(ShapeName))}, {Environment.ProcessorCount} cores, {(Debugger.IsAttached ? "debugger" : BuildKind())} build" +
    (options.Clusters.Length > 0 ? $", cluster profile with {string.Join(" and ", options.Clusters)} silo(s) (the cluster's own settings: partitions, shards and trees are its defaults)" : "") +
    (options.Delivery.Length > 0 ? $", delivery on to {DeliveryList(options.Delivery)} then off, side by side (delivery buffered 1 MB or {BenchOptions.DeliveryBatchAge.TotalSeconds:F0} s)" : ""));
if (options.Postgres is { } server)
{
    // A wrong server or password would otherwise surface only after the whole delivery-off run of the first shape.
    try
    {
        await using var connection = new Npgsql.NpgsqlConnection(server);
        await connection.OpenAsync();
    }
    catch (Exception ex) when (ex is Npgsql.NpgsqlException or ArgumentException or TimeoutException)
    {
        Console.Error.WriteLine($"PlatformBench: cannot reach the PostgreSQL server for --delivery postgres (from --postgres or {ClusterProfile.PostgresVariable}): {ex.Message}");
        return 2;
    }
}

var modelPath = DefaultSentimentModel.FindPath();
var trees = options.Trees ?? new PipelineOptions().EffectiveAnomalyTrees;
var pipeline = new PipelineOptions { Partitions = options.Partitions, AnomalyShards = options.AnomalyShards };
var results = new List<ShapeResult>();
var deliveryPairs = new List<(ShapeResult Off, ShapeResult On)>();
foreach (var length in options.Lengths)
{
    foreach (var silos in options.Clusters.Length > 0 ? options.Clusters.Select(n => (int?)n) : [null])
    {
        Console.WriteLine();
        if (options.Delivery.Length == 0)
        {
            Console.WriteLine($"-- {ShapeName(length)} reviews{(silos is { } n ? $", cluster of {n} silo(s)" : "")} --");
            results.Add(await RunShapeAsync(length, silos, delivery: null, ceiling: null));
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            continue;
        }
        // On first, then off, each on a fresh silo, so that the two differ by the delivery alone. The second silo of
        // a process runs on code the first one's load already compiled (measured: the second run 9-14 % faster), so
        // delivery goes first and the ratio errs against it. The off run reuses the bare loops' figures.
        Console.WriteLine($"-- {ShapeName(length)} reviews, delivery {DeliveryList(options.Delivery)} (delivery buffered 1 MB or {BenchOptions.DeliveryBatchAge.TotalSeconds:F0} s) --");
        var on = await RunShapeAsync(length, silos, options.Delivery, ceiling: null);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Console.WriteLine();
        Console.WriteLine($"-- {ShapeName(length)} reviews, delivery off --");
        var off = await RunShapeAsync(length, silos, delivery: [], ceiling: (on.Bare, on.BareNoForest));
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        results.AddRange([off, on]);
        deliveryPairs.Add((off, on));
    }
}
Console.WriteLine();
ShapeResult.PrintTable(results, trees);
foreach (var (off, on) in deliveryPairs)
{
    Console.WriteLine($"{ShapeName(on.Length)}: delivery {DeliveryList(options.Delivery)} on against off, end to end: {on.Reviews / on.Stages.Last / (off.Reviews / off.Stages.Last):P0} ; " +
        $"to the forests and counts: {on.Reviews / on.Stages.Computed / (off.Reviews / off.Stages.Computed):P0}");
}
foreach (var group in results.Where(r => r.Silos is not null).GroupBy(r => r.Length))
{
    if (group.FirstOrDefault(r => r.Silos == 1) is { } one)
    {
        foreach (var r in group.Where(r => r.Silos > 1))
        {
            Console.WriteLine($"{ShapeName(group.Key)}: {r.Silos} silos against 1, to the forests and counts: {r.Reviews / r.Stages.Computed / (one.Reviews / one.Stages.Computed):P0}");
        }
    }
}
return 0;

// One review shape: the bare loops (or the figures a previous run of the shape got from them), then a fresh silo or
// cluster (so that each starts from the same empty state). delivery: null without --delivery, empty for its off run,
// else the destinations its on run delivers to.
async Task<ShapeResult> RunShapeAsync(ReviewLength length, int? clusterSilos, string[]? delivery, (double Bare, double BareNoForest)? ceiling)
{
    var batches = Batches(seed: 1, options.Reviews, options.Batch, length);
    var words = BodyWords(batches);
    Console.WriteLine($"review bodies: {words.Average():F1} words on average, median {words[words.Length / 2]}, 90th percentile {words[(int)(words.Length * 0.9)]}, longest {words[^1]}");

    // 1. The ceiling: one thread, no Orleans, no network.
    var (bare, bareNoForest) = ceiling ?? (BareLoop.Run(batches, modelPath, pipeline, trees), BareLoop.Run(batches, modelPath, pipeline, trees: 0));
    var measuredBefore = ceiling is null ? "" : " (measured in the run before, on the same reviews)";
    Console.WriteLine($"bare loop, parse+validate+dedup+score+windows+distinct+RCF ({trees} trees): {bare:N0} reviews/s{measuredBefore}");
    Console.WriteLine($"bare loop, same without RCF:                            {bareNoForest:N0} reviews/s{measuredBefore}");

    // 2. The platform: the silo as Program runs it (SQLite state, memory streams, co-hosted gateway), no dashboard; in
    // this process by default, or with --silo-process as its own process (the client's heap and collections apart).
    var directory = Directory.CreateTempSubdirectory("revieworleans-bench-").FullName;
    var grpcPort = FreePort();
    var httpPort = FreePort();
    var orleansGatewayPort = FreePort();
    string[] siloArgs = [
        $"--Gateway:GrpcPort={grpcPort}", $"--Gateway:HttpPort={httpPort}", $"--Cluster:SiloPort={FreePort()}",
        $"--Cluster:GatewayPort={orleansGatewayPort}", $"--Storage:SqlitePath={Path.Combine(directory, "bench.db")}",
        "--Dashboard:Enabled=false", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:ReviewOrleans=Warning",
        $"--Pipeline:Partitions={options.Partitions}", $"--Pipeline:AnomalyTrees={trees}",
        $"--Pipeline:AnomalyShards={options.AnomalyShards}", $"--Pipeline:AnomalyThreads={options.AnomalyThreads}"];
    var deliverTo = delivery ?? [];
    // Declared before the platform, so disposed after it: no silo still writes to the database when it is dropped.
    await using var database = deliverTo.Contains("postgres") ? await BenchDatabase.CreateAsync(options.Postgres!) : null;
    if (deliverTo.Length > 0)
    {
        // Errors (dead letters) go under the shape's directory too, not into data/ of the working directory. The
        // batch age is cut to 1 s so that the phase's trailing partial batch does not wait out the default minute
        // and make the "delivered" stage a measure of that timer instead of the delivery's pace.
        siloArgs = [.. siloArgs, $"--Delivery:BatchAge={BenchOptions.DeliveryBatchAge:c}", $"--Delivery:ErrorsPath={Path.Combine(directory, "delivery-errors")}"];
        if (database is not null)
        {
            siloArgs = [.. siloArgs, "--Delivery:PostgreSQL=true", $"--Delivery:PostgresConnectionString={database.ConnectionString}"];
            Console.WriteLine($"delivering to PostgreSQL database {database.Name} (dropped at the end of the run)");
        }
        if (deliverTo.Contains("files"))
        {
            siloArgs = [.. siloArgs, $"--Delivery:FilesPath={Path.Combine(directory, "delivered")}"];
        }
    }
    await using var platform = clusterSilos is { } silos
        ? await SiloUnderTest.StartLocalClusterAsync(silos)
        : options.SiloProcess
            ? await SiloUnderTest.StartProcessAsync(siloArgs, httpPort, orleansGatewayPort)
            : await SiloUnderTest.StartInProcessAsync(siloArgs);
    var probe = new PipelineProbe(platform.Cluster, clusterSilos is null ? pipeline : new PipelineOptions { AnomalyShards = ClusterProfile.ClusterAnomalyShards },
        [.. deliverTo.Select(DestinationName)]);
    using var channel = GrpcChannel.ForAddress(platform.GrpcAddress ?? $"http://127.0.0.1:{grpcPort}");
    var gateway = new ReviewGateway.ReviewGatewayClient(channel);

    var windows = new WindowLog();
    using var watchCancel = new CancellationTokenSource();
    var watch = windows.FollowAsync(gateway, watchCancel.Token);

    // Warm-up: JIT, grain activations, model sessions; through every stage, its windows (and deliveries) included, so
    // that none of its work is still pending when the clock starts and every window emitted after that holds measured
    // reviews only.
    const int warmUp = 20_000;
    if (clusterSilos is { } n && n > 1)
    {
        // The partitions first activate on the silo that started first; the rebalancer then moves them (every 10 s),
        // and a moved partition starts its figures afresh. So they are activated, then spread (P/N ± 2 per silo),
        // before anything is measured.
        const int priming = 4_000;
        var primed = await probe.TotalsAsync(sinceMs: 0);
        await SendAllAsync(gateway, Batches(seed: 4, priming, options.Batch, length), options.Concurrency, rate: 0);
        await WaitForSpreadAsync(gateway, n);
        // Its reviews finish before the warm-up starts (counts and forests; a moved partition's "scored" restarted),
        // and their windows close.
        var primingClock = Stopwatch.StartNew();
        while (await probe.TotalsAsync(sinceMs: 0) is var t && (t.Counted < primed.Counted + priming || t.ForestPoints < primed.ForestPoints + priming))
        {
            if (primingClock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException("the priming reviews were not counted in 2 minutes");
            }
            await Task.Delay(100);
        }
        await Task.Delay(new PipelineOptions().WindowSize + TimeSpan.FromSeconds(2));
    }
    var warmUpStartMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    var warmUpStart = await probe.TotalsAsync(warmUpStartMs);
    await SendAllAsync(gateway, Batches(seed: 2, warmUp, options.Batch, length), options.Concurrency, rate: 0);
    await probe.WaitAllStagesAsync(warmUpStart, warmUp, warmUpStartMs, Stopwatch.StartNew());

    // 3. Maximum load, timed to each stage: scored by the partitions, learnt by every forest, in the counts, and in
    // the emitted "All" windows. End to end is the last of these. The windows close on the clock (their end plus the
    // allowed lateness), so the phase starts on a window boundary: when the last window is emitted then depends on
    // how long the reviews took to send, not on where the wall clock happened to be in its 5 s grid.
    var windowMs = (long)pipeline.WindowSize.TotalMilliseconds;
    await Task.Delay(TimeSpan.FromMilliseconds(windowMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % windowMs + 10));
    var phaseStartMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    var before = await probe.TotalsAsync(phaseStartMs);
    var clock = Stopwatch.StartNew();
    await SendAllAsync(gateway, batches, options.Concurrency, rate: 0);
    var acceptedSeconds = clock.Elapsed.TotalSeconds;
    var stages = await probe.WaitAllStagesAsync(before, options.Reviews, phaseStartMs, clock);
    var scoredThroughput = options.Reviews / stages.Scored;
    var endToEnd = options.Reviews / stages.Last;
    Console.WriteLine($"platform, max load: {options.Reviews / acceptedSeconds:N0} reviews/s accepted by the gateway ({acceptedSeconds:F1} s), {scoredThroughput:N0} reviews/s scored by the partitions ({stages.Scored:F1} s)");
    Console.WriteLine($"                    every forest had taken in every point at {stages.Forests:F1} s, the counts were complete at {stages.Counts:F1} s, the \"All\" windows holding them were emitted at {stages.Windows:F1} s");
    if (stages.Delivered is { } deliveredAt)
    {
        // Retries and failures explain a slow "delivered" stage that the time alone would not.
        var status = await probe.DeliveryStatusAsync();
        Console.WriteLine($"                    delivered to every destination ({DeliveryList(deliverTo)}) at {deliveredAt:F1} s; since the silo started: " +
            string.Join("; ", status.GroupBy(s => s.Destination).Select(g =>
                $"{g.Key} {g.Sum(s => s.Delivered):N0} delivered, {g.Sum(s => s.Failures):N0} failures, {g.Sum(s => s.Retries):N0} retries, {g.Sum(s => s.DeadLettered):N0} dead-lettered")));
    }
    Console.WriteLine($"                    end to end (to the last stage): {endToEnd:N0} reviews/s ({stages.Last:F1} s); to the forests and counts: {options.Reviews / stages.Computed:N0} reviews/s");

    // 4. Latency at half the rate the partitions, forests and counts sustained (or at --half-load-rate). The emitted
    // windows are left out of that rate: they close on the clock (window + lateness after their end), not on the work.
    var halfRate = options.HalfLoadRate > 0 ? options.HalfLoadRate : options.Reviews / stages.Computed / 2;
    var halfCount = (int)(halfRate * options.HalfLoadSeconds);
    var halfBatches = Batches(seed: 3, halfCount, Math.Max(1, Math.Min(options.Batch, (int)(halfRate / 50))), length);
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    var heapBeforeHalf = GC.GetGCMemoryInfo().HeapSizeBytes;
    var beforeHalf = await probe.StatsAsync();
    windows.StartRecording();
    var gcBefore = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2), Pause: GC.GetTotalPauseDuration(), Allocated: GC.GetTotalAllocatedBytes());
    using var allocationSampler = options.Allocations ? new AllocationSampler() : null;
    var halfStart = Stopwatch.StartNew();
    await SendAllAsync(gateway, halfBatches, concurrency: 1, rate: halfRate);
    var sentRate = halfCount / halfStart.Elapsed.TotalSeconds;
    await probe.WaitScoredAsync(beforeHalf.Scored + halfCount);
    var afterHalf = await probe.StatsAsync();
    allocationSampler?.Stop();
    var halfSeconds = halfStart.Elapsed.TotalSeconds;
    var gcPause = GC.GetTotalPauseDuration() - gcBefore.Pause;
    var gcCount = GC.CollectionCount(0) - gcBefore.Gen0;
    var allocatedPerReview = (GC.GetTotalAllocatedBytes() - gcBefore.Allocated) / (double)halfCount;
    var lastEphemeral = GC.GetGCMemoryInfo(GCKind.Ephemeral);
    var delta = afterHalf.LatencyBuckets.Zip(beforeHalf.LatencyBuckets, (a, b) => a - b).ToArray();
    await Eventually(() => windows.RecordedCount >= halfCount, TimeSpan.FromSeconds(30));
    windows.StopRecording();
    var scoredP50 = PartitionStats.Percentile(delta, 0.5);
    var scoredP99 = PartitionStats.Percentile(delta, 0.99);
    Console.WriteLine($"platform, half load ({sentRate:N0} reviews/s for {options.HalfLoadSeconds} s): ingest->scored p50 {scoredP50} ms, p99 {scoredP99} ms");
    Console.WriteLine($"                    GC{(options.SiloProcess ? " of this client process (the silo's own is apart)" : "")}: heap {heapBeforeHalf / (1 << 20):N0} MiB before (the half-load requests included), {GC.GetGCMemoryInfo().HeapSizeBytes / (1 << 20):N0} MiB after, {gcCount} collections ({GC.CollectionCount(1) - gcBefore.Gen1} gen1, {GC.CollectionCount(2) - gcBefore.Gen2} gen2), paused {gcPause.TotalMilliseconds:F0} ms ({gcPause.TotalSeconds / halfSeconds:P1} of the time, {gcPause.TotalMilliseconds / Math.Max(1, gcCount):F1} ms per collection); {allocatedPerReview:N0} bytes allocated per review; last gen{lastEphemeral.Generation} collection promoted {lastEphemeral.PromotedBytes / 1024:N0} KiB in {lastEphemeral.PauseDurations[0].TotalMilliseconds:F1} ms");
    Console.WriteLine($"                    ingest->window emitted p50 {windows.Percentile(0.5):F0} ms, p99 {windows.Percentile(0.99):F0} ms (window {new PipelineOptions().WindowSize.TotalSeconds:F0} s; {windows.RecordedCount:N0} of {halfCount:N0} reviews seen in windows)");
    allocationSampler?.Print(halfCount);
    Console.WriteLine($"ratio platform/bare loop: scored {scoredThroughput / bare:P0}, end to end {endToEnd / bare:P0} (bare loop with RCF); scored {scoredThroughput / bareNoForest:P0} (without RCF)");

    watchCancel.Cancel();
    try { await watch; } catch (OperationCanceledException) { } catch (RpcException) { }
    await platform.DisposeAsync();
    try { Directory.Delete(directory, true); } catch (IOException) { }
    var variant = delivery is null ? null : delivery.Length == 0 ? "delivery off" : $"delivery {DeliveryList(delivery)}";
    return new ShapeResult(length, clusterSilos, variant, words.Average(), words[words.Length / 2], bare, bareNoForest, options.Reviews / acceptedSeconds,
        acceptedSeconds, stages, options.Reviews, sentRate, scoredP50, scoredP99, windows.Percentile(0.5), windows.Percentile(0.99),
        allocatedPerReview, gcPause.TotalSeconds / halfSeconds);
}

static async Task WaitForSpreadAsync(ReviewGateway.ReviewGatewayClient gateway, int silos)
{
    var clock = Stopwatch.StartNew();
    while (true)
    {
        var layout = await gateway.GetClusterAsync(new GetClusterRequest());
        var perSilo = layout.Placements.Where(p => p.Kind == "partition").GroupBy(p => p.Silo).Select(g => g.Count()).ToList();
        var fair = (double)perSilo.Sum() / silos;
        if (perSilo.Count == silos && perSilo.All(count => Math.Abs(count - fair) <= 2))
        {
            Console.WriteLine($"partitions spread over the {silos} silos ({string.Join("/", perSilo)}) after {clock.Elapsed.TotalSeconds:F0} s");
            return;
        }
        if (clock.Elapsed > TimeSpan.FromMinutes(2))
        {
            throw new TimeoutException($"the partitions did not spread over {silos} silos in 2 minutes: {string.Join("/", perSilo)}");
        }
        await Task.Delay(500);
    }
}

static string ShapeName(ReviewLength length) => length.ToString().ToLowerInvariant();

static string DeliveryList(IEnumerable<string> destinations) => string.Join("+", destinations);

// The option's names for the destinations, as the silo's delivery status names them.
static string DestinationName(string option) => option switch
{
    "postgres" => "postgresql",
    "files" => "files",
    _ => throw new ArgumentOutOfRangeException(nameof(option), option, "not a --delivery destination"),
};

static string BuildKind() =>
#if DEBUG
    "Debug (use -c Release for figures)";
#else
    "Release";
#endif

static List<PutReviewsRequest> Batches(int seed, int count, int batch, ReviewLength length)
{
    var generator = new SyntheticReviewGenerator(seed, length);
    var result = new List<PutReviewsRequest>();
    for (var i = 0; i < count; i += batch)
    {
        var request = new PutReviewsRequest();
        for (var j = i; j < Math.Min(count, i + batch); j++)
        {
            request.Records.Add(new ReviewRecord { Review = ReviewApi.ToApi(generator.Next()) });
        }
        result.Add(request);
    }
    return result;
}

static async Task SendAllAsync(ReviewGateway.ReviewGatewayClient gateway, List<PutReviewsRequest> batches, int concurrency, double rate)
{
    var next = -1;
    var clock = Stopwatch.StartNew();
    long sent = 0;
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < batches.Count)
        {
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds(Interlocked.Read(ref sent) / rate) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }
            }
            var request = batches[i];
            // A client does not keep what it sent; neither does the benchmark, so that its own data shrinks as it
            // goes instead of weighing on the collections it measures (each task owns distinct indices).
            batches[i] = null!;
            var response = await gateway.PutReviewsAsync(request);
            if (response.FailedRecordCount > 0)
            {
                throw new InvalidOperationException($"{response.FailedRecordCount} records failed: {response.Records.First(r => r.ErrorCode.Length > 0)}");
            }
            Interlocked.Add(ref sent, request.Records.Count);
        }
    }));
}

// Words per review body, sorted.
static int[] BodyWords(List<PutReviewsRequest> batches)
{
    var words = batches.SelectMany(b => b.Records).Select(r =>
    {
        var body = r.Review.ReviewBody.AsSpan();
        var count = 0;
        for (var k = 0; k < body.Length; k++)
        {
            if (!char.IsWhiteSpace(body[k]) && (k == 0 || char.IsWhiteSpace(body[k - 1])))
            {
                count++;
            }
        }
        return count;
    }).ToArray();
    Array.Sort(words);
    return words;
}

static async Task Eventually(Func<bool> condition, TimeSpan timeout)
{
    var clock = Stopwatch.StartNew();
    while (!condition() && clock.Elapsed < timeout)
    {
        await Task.Delay(50);
    }
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

/// <summary>The silo being measured, in this process or as its own, and a cluster client of it.</summary>
internal sealed class SiloUnderTest : IAsyncDisposable
{
    private readonly WebApplication? _app;
    private readonly Process? _process;
    private readonly IHost? _client;

    private SiloUnderTest(IClusterClient cluster, WebApplication? app, Process? process, IHost? client)
    {
        Cluster = cluster;
        _app = app;
        _process = process;
        _client = client;
    }

    public IClusterClient Cluster { get; }

    /// <summary>The gRPC gateway's address where it is not the co-hosted one on the port the caller chose.</summary>
    public string? GrpcAddress { get; private init; }

    private string? _localClusterDirectory;

    /// <summary>
    /// <paramref name="silos"/> silo processes and the standalone gateway in the cluster profile, on a throwaway
    /// PostgreSQL, exactly as <c>deploy/local-cluster.sh start</c> runs them; an Orleans client joins through the
    /// membership table to read the partitions' figures.
    /// </summary>
    public static async Task<SiloUnderTest> StartLocalClusterAsync(int silos)
    {
        var script = FindInRepository(Path.Combine("deploy", "local-cluster.sh"));
        // Not created here: the script makes it with the usual permissions, so that its PostgreSQL user can enter it.
        var directory = Path.Combine(Path.GetTempPath(), $"revieworleans-bench-cluster-{Guid.NewGuid():N}");
        try
        {
            await RunScriptAsync(script, directory, "start", silos.ToString(CultureInfo.InvariantCulture));
            var processes = await File.ReadAllLinesAsync(Path.Combine(directory, "processes"));
            var gateway = processes.Select(l => l.Split(' ')).Single(f => f[0] == "gateway");
            var serviceId = (await File.ReadAllTextAsync(Path.Combine(directory, "service-id"))).Trim();
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Cluster:Membership"] = "adonet",
                ["Cluster:ServiceId"] = serviceId,
                ["Cluster:ClusterId"] = serviceId,
                ["ConnectionStrings:Postgres"] = (await File.ReadAllTextAsync(Path.Combine(directory, "connection"))).Trim(),
            }).Build();
            var client = Host.CreateDefaultBuilder()
                .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
                .UseOrleansClient(c => c.UseReviewClustering(config))
                .Build();
            await client.StartAsync();
            return new SiloUnderTest(client.Services.GetRequiredService<IClusterClient>(), null, null, client)
            {
                GrpcAddress = $"http://{gateway[2]}",
                _localClusterDirectory = directory,
            };
        }
        catch
        {
            await RunScriptAsync(script, directory, "stop");
            throw;
        }
    }

    private static async Task RunScriptAsync(string script, string directory, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["REVIEWORLEANS_CLUSTER_DIR"] = directory;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {script}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed ({process.ExitCode}):\n{await output}{await errors}");
        }
    }

    private static string FindInRepository(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"{relativePath} not found above {AppContext.BaseDirectory}: --cluster runs from the repository's build output");
    }

    public static async Task<SiloUnderTest> StartInProcessAsync(string[] args)
    {
        var app = SiloApp.Create(args);
        await app.StartAsync();
        return new SiloUnderTest(app.Services.GetRequiredService<IClusterClient>(), app, null, null);
    }

    /// <summary>Starts the silo's executable (built beside this program) and connects an Orleans client to it.</summary>
    public static async Task<SiloUnderTest> StartProcessAsync(string[] args, int httpPort, int orleansGatewayPort)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ReviewOrleans.Silo.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start dotnet {dll}");
        try
        {
            return await ConnectAsync(process, httpPort, orleansGatewayPort);
        }
        catch
        {
            // Whatever failed (health, the client), the child silo must not outlive the benchmark.
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
            throw;
        }
    }

    private static async Task<SiloUnderTest> ConnectAsync(Process process, int httpPort, int orleansGatewayPort)
    {
        using var http = new HttpClient();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the silo process exited with code {process.ExitCode} before it was healthy");
            }
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{httpPort}/healthz")).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException("the silo process was not healthy after 2 minutes");
            }
            await Task.Delay(100);
        }
        var client = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(c =>
            {
                c.UseLocalhostClustering(orleansGatewayPort);
                c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("revieworleans", "revieworleans"));
            })
            .Build();
        await client.StartAsync();
        return new SiloUnderTest(client.Services.GetRequiredService<IClusterClient>(), null, process, client);
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_client is not null)
        {
            await _client.StopAsync();
            _client.Dispose();
        }
        if (_localClusterDirectory is not null)
        {
            await RunScriptAsync(FindInRepository(Path.Combine("deploy", "local-cluster.sh")), _localClusterDirectory, "stop");
            // The next cluster's PostgreSQL may get the same port: pooled connections to this one must not be reused.
            Npgsql.NpgsqlConnection.ClearAllPools();
        }
        if (_process is not null)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// How far each stage of the pipeline has got: what the partitions scored, the forests took in, the counts hold, and,
/// where delivery is on, what each destination (by the silo's name for it) was delivered; null where it is off.
/// </summary>
internal readonly record struct StageTotals(long Scored, long ForestPoints, long Counted, long Windowed, IReadOnlyDictionary<string, long>? Delivered);

/// <summary>Seconds from the start of a phase until each stage held all its reviews; Delivered is null where delivery is off.</summary>
internal readonly record struct StageTimes(double Scored, double Forests, double Counts, double Windows, double? Delivered)
{
    /// <summary>End to end: the last stage to hold them all, the delivery included where it is on.</summary>
    public double Last => Math.Max(Math.Max(Math.Max(Scored, Forests), Math.Max(Counts, Windows)), Delivered ?? 0);

    /// <summary>The stages whose pace is the work's: scoring, the forests and the counts (windows close on the clock).</summary>
    public double Computed => Math.Max(Scored, Math.Max(Forests, Counts));
}

/// <summary>
/// Reads each stage's progress from its grains, as the gateway's GetStats-like calls do: the partitions' scored count,
/// the anomaly grains' PointsSeen (GetAnomaly), the counting grain's total (GetCounts), the reviews in the "All"
/// category's closed windows (GetCategorySentiment("All")) and, for each of <paramref name="destinations"/> (none where
/// delivery is off), the scored reviews delivered to it (GetDeliveryStatus).
/// </summary>
internal sealed class PipelineProbe(IClusterClient cluster, PipelineOptions pipeline, string[] destinations)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly int[] _shards = Enumerable.Range(0, pipeline.Partitions).Select(pipeline.AnomalyShardOf).Distinct().ToArray();

    public async Task<PartitionStats> StatsAsync()
    {
        var all = await Task.WhenAll(Enumerable.Range(0, pipeline.Partitions).Select(p => cluster.GetGrain<IReviewPartitionGrain>(p).GetStats()));
        var total = new PartitionStats { Scored = all.Sum(s => s.Scored) };
        foreach (var stats in all)
        {
            for (var i = 0; i < total.LatencyBuckets.Length; i++)
            {
                total.LatencyBuckets[i] += stats.LatencyBuckets[i];
            }
        }
        return total;
    }

    public async Task<long> ForestPointsAsync() =>
        (await Task.WhenAll(_shards.Select(s => cluster.GetGrain<IAnomalyGrain>(s).GetStatus(0)))).Sum(s => s.PointsSeen);

    public async Task<long> CountedAsync() => (await cluster.GetGrain<ICountingGrain>("global").GetReport(0)).TotalReviews;

    /// <summary>Reviews in the "All" windows emitted so far that end after <paramref name="sinceMs"/> (an update replaces its window).</summary>
    public async Task<long> WindowedAsync(long sinceMs)
    {
        // Enough windows to reach back to sinceMs, and no more: the history holds an hour of them.
        var size = (long)pipeline.WindowSize.TotalMilliseconds;
        var back = (int)Math.Clamp((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - sinceMs) / size + 4, 4, pipeline.HistoryWindows);
        var history = await cluster.GetGrain<ICategoryGrain>(StreamNames.AllCategories).GetHistory(back);
        return history.Windows.Where(w => w.EndMs > sinceMs).Sum(w => w.Count);
    }

    /// <summary>Each silo's delivery figures once: every shard on a silo reports the same, its silo's.</summary>
    public async Task<List<DeliveryStatusRecord>> DeliveryStatusAsync() =>
        [.. (await Task.WhenAll(_shards.Select(s => cluster.GetGrain<IAnomalyGrain>(s).GetDeliveryStatus())))
            .SelectMany(r => r).DistinctBy(r => (r.Silo, r.Destination))];

    /// <summary>Scored reviews delivered to each destination, summed over the silos; null where delivery is off.</summary>
    public async Task<IReadOnlyDictionary<string, long>?> DeliveredAsync()
    {
        if (destinations.Length == 0)
        {
            return null;
        }
        var status = await DeliveryStatusAsync();
        // A destination no silo reports stays at 0, so that a silo that did not configure it times the wait out.
        return destinations.ToDictionary(d => d, d => status.Where(s => s.Destination == d).Sum(s => s.Delivered));
    }

    public async Task<StageTotals> TotalsAsync(long sinceMs) =>
        new((await StatsAsync()).Scored, await ForestPointsAsync(), await CountedAsync(), await WindowedAsync(sinceMs), await DeliveredAsync());

    public async Task WaitScoredAsync(long target)
    {
        var deadline = Stopwatch.StartNew();
        while ((await StatsAsync()).Scored < target)
        {
            if (deadline.Elapsed > Timeout)
            {
                throw new TimeoutException($"fewer than {target} reviews scored after {Timeout.TotalMinutes} minutes");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until every stage holds <paramref name="reviews"/> more than <paramref name="before"/> (the windows: in
    /// those ending after <paramref name="sinceMs"/>), and returns when each got there on <paramref name="clock"/>.
    /// The partitions are polled every 20 ms as before; the other stages every 100 ms until the partitions are done
    /// (so that the polls take little from the work measured), then every 20 ms.
    /// </summary>
    public async Task<StageTimes> WaitAllStagesAsync(StageTotals before, long reviews, long sinceMs, Stopwatch clock)
    {
        double? scored = null, forests = null, counts = null, windows = null, delivered = null;
        var last = before;
        bool AllDelivered(IReadOnlyDictionary<string, long>? now) =>
            now is not null && before.Delivered is { } then && destinations.All(d => now[d] >= then[d] + reviews);
        for (var poll = 0; ; poll++)
        {
            if (scored is null && (last = last with { Scored = (await StatsAsync()).Scored }).Scored >= before.Scored + reviews)
            {
                scored = clock.Elapsed.TotalSeconds;
            }
            if (scored is not null || poll % 5 == 0)
            {
                if (forests is null && (last = last with { ForestPoints = await ForestPointsAsync() }).ForestPoints >= before.ForestPoints + reviews)
                {
                    forests = clock.Elapsed.TotalSeconds;
                }
                if (counts is null && (last = last with { Counted = await CountedAsync() }).Counted >= before.Counted + reviews)
                {
                    counts = clock.Elapsed.TotalSeconds;
                }
                if (windows is null && (last = last with { Windowed = await WindowedAsync(sinceMs) }).Windowed >= before.Windowed + reviews)
                {
                    windows = clock.Elapsed.TotalSeconds;
                }
                if (destinations.Length > 0 && delivered is null && AllDelivered((last = last with { Delivered = await DeliveredAsync() }).Delivered))
                {
                    delivered = clock.Elapsed.TotalSeconds;
                }
            }
            if (scored is { } s && forests is { } f && counts is { } c && windows is { } w && (destinations.Length == 0 || delivered is not null))
            {
                return new StageTimes(s, f, c, w, delivered);
            }
            if (clock.Elapsed > Timeout)
            {
                var deliveredSoFar = last.Delivered is { } now && before.Delivered is { } then
                    ? ", delivered " + string.Join(", ", destinations.Select(d => $"{d} {now[d] - then[d]}"))
                    : "";
                throw new TimeoutException($"not every stage held {reviews} reviews after {Timeout.TotalMinutes} minutes: " +
                    $"scored {last.Scored - before.Scored}, forests {last.ForestPoints - before.ForestPoints}, counts {last.Counted - before.Counted}, windows {last.Windowed - before.Windowed}{deliveredSoFar}");
            }
            await Task.Delay(20);
        }
    }
}

/// <summary>One review shape's figures, for the table at the end.</summary>
/// <param name="Variant">"delivery off" or "delivery postgres+files" (say) with --delivery; null without.</param>
internal sealed record ShapeResult(
    ReviewLength Length, int? Silos, string? Variant, double MeanWords, int MedianWords, double Bare, double BareNoForest, double Accepted, double AcceptedSeconds,
    StageTimes Stages, int Reviews, double HalfRate, int ScoredP50, int ScoredP99, double WindowP50, double WindowP99,
    double BytesPerReview, double GcPausedShare)
{
    public static void PrintTable(IReadOnlyList<ShapeResult> results, int trees)
    {
        var rows = new List<(string Measure, Func<ShapeResult, string> Value)>
        {
            ("review body, words: mean / median", r => $"{r.MeanWords:F0} / {r.MedianWords}"),
            ($"bare loop with RCF ({trees} trees) / without RCF, one thread (the ceiling)", r => $"{r.Bare:N0} / {r.BareNoForest:N0} reviews/s"),
            ("accepted by the gateway", r => $"{r.Accepted:N0} reviews/s ({r.AcceptedSeconds:F1} s)"),
            ("scored by the partitions (the old \"end to end\" figure)", r => $"{r.Reviews / r.Stages.Scored:N0} reviews/s ({r.Stages.Scored:F1} s)"),
            ("every forest has taken in every point", r => $"at {r.Stages.Forests:F1} s"),
            ("the counts are complete", r => $"at {r.Stages.Counts:F1} s"),
            ("the \"All\" windows holding them are emitted", r => $"at {r.Stages.Windows:F1} s ({r.Stages.Windows - r.AcceptedSeconds:F1} s after the last was accepted)"),
        };
        // Without --delivery the table stays as it was.
        if (results.Any(r => r.Variant is not null))
        {
            rows.Add(("delivered to every destination", r => r.Stages.Delivered is { } d ? $"at {d:F1} s" : "—"));
        }
        rows.AddRange(
        [
            ("**end to end, to the last stage**", r => $"**{r.Reviews / r.Stages.Last:N0} reviews/s** ({r.Stages.Last:F1} s)"),
            ("to the forests and counts (windows close on the clock)", r => $"{r.Reviews / r.Stages.Computed:N0} reviews/s"),
            ("share of the bare loop with RCF: scored / end to end", r => $"{r.Reviews / r.Stages.Scored / r.Bare:P0} / {r.Reviews / r.Stages.Last / r.Bare:P0}"),
            ("half load: rate sent", r => $"{r.HalfRate:N0} reviews/s"),
            ("half load: ingest → scored p50 / p99", r => $"{r.ScoredP50} / {r.ScoredP99} ms"),
            ("half load: ingest → window emitted p50 / p99", r => $"{r.WindowP50 / 1000:F1} / {r.WindowP99 / 1000:F1} s"),
            ("half load: allocated per review, GC paused", r => $"{r.BytesPerReview:N0} B, {r.GcPausedShare:P1}"),
        ]);
        Console.WriteLine($"| Measure | {string.Join(" | ", results.Select(r => $"{r.Length.ToString().ToLowerInvariant()} ({r.Reviews:N0} reviews{(r.Silos is { } n ? $", {n} silo(s), cluster profile" : "")}{(r.Variant is { } v ? $", {v}" : "")})"))} |");
        Console.WriteLine($"| --- |{string.Concat(results.Select(_ => " --- |"))}");
        foreach (var (measure, value) in rows)
        {
            Console.WriteLine($"| {measure} | {string.Join(" | ", results.Select(value))} |");
        }
    }
}

/// <param name="Delivery">The --delivery destinations ("postgres", "files") in the order given; empty without it.</param>
/// <param name="Postgres">The PostgreSQL server for the postgres destination's throwaway database; null where it is not delivered to.</param>
internal sealed record BenchOptions(int Reviews, int Batch, int Concurrency, int HalfLoadSeconds, int HalfLoadRate, int Partitions, int? Trees, int AnomalyShards, int AnomalyThreads, bool SiloProcess, bool Allocations, ReviewLength[] Lengths, int[] Clusters, string[] Delivery, string? Postgres)
{
    /// <summary>Delivery's batch age in the on runs; its default minute would hold the phase's last partial batch back.</summary>
    public static readonly TimeSpan DeliveryBatchAge = TimeSpan.FromSeconds(1);

    private static readonly string[] DeliveryChoices = ["postgres", "files"];

    private static readonly string[] Valued = ["reviews", "batch", "concurrency", "half-load-seconds", "half-load-rate", "partitions", "trees", "anomaly-shards", "anomaly-threads"];
    private static readonly string[] Flags = ["silo-process", "allocations"];
    private static readonly Dictionary<string, ReviewLength[]> LengthChoices = new(StringComparer.Ordinal)
    {
        ["short"] = [ReviewLength.Short],
        ["realistic"] = [ReviewLength.Realistic],
        ["both"] = [ReviewLength.Short, ReviewLength.Realistic],
    };

    /// <exception cref="ArgumentException">An unknown option, a missing or non-integer value, or one out of range.</exception>
    public static BenchOptions Parse(string[] args)
    {
        // A misspelt option or --name=value silently fell back to the default before, measuring something else.
        var lengths = LengthChoices["both"];
        int[] clusters = [];
        string[] delivery = [];
        string? postgres = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : null;
            if (name is not null && Flags.Contains(name))
            {
                continue;
            }
            if (name == "lengths")
            {
                if (i + 1 >= args.Length || !LengthChoices.TryGetValue(args[i + 1], out lengths))
                {
                    throw new ArgumentException($"--lengths needs one of: {string.Join(", ", LengthChoices.Keys)}");
                }
                i++;
                continue;
            }
            if (name == "cluster")
            {
                var sizes = i + 1 < args.Length ? args[i + 1].Split(',') : [];
                if (sizes.Length == 0 || !sizes.All(n => int.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v is >= 1 and <= 16))
                {
                    throw new ArgumentException("--cluster needs silo counts from 1 to 16, comma-separated: --cluster 1,3");
                }
                clusters = [.. sizes.Select(n => int.Parse(n, CultureInfo.InvariantCulture))];
                i++;
                continue;
            }
            if (name == "delivery")
            {
                var listed = i + 1 < args.Length ? args[i + 1].Split(',') : [];
                if (listed.Length == 0 || !listed.All(DeliveryChoices.Contains) || listed.Distinct().Count() != listed.Length)
                {
                    throw new ArgumentException($"--delivery needs destinations from {string.Join(", ", DeliveryChoices)}, comma-separated, each once: --delivery postgres,files");
                }
                delivery = listed;
                i++;
                continue;
            }
            if (name == "postgres")
            {
                if (i + 1 >= args.Length || args[i + 1].Length == 0 || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException("--postgres needs an Npgsql connection string to a server where databases can be created");
                }
                postgres = args[i + 1];
                i++;
                continue;
            }
            if (name is null || !Valued.Contains(name))
            {
                throw new ArgumentException($"unknown option '{args[i]}'; options: {string.Join(", ", Valued.Select(v => $"--{v} N"))}, --lengths {string.Join("|", LengthChoices.Keys)}, --cluster N[,M...], --delivery {string.Join("[,", DeliveryChoices)}], --postgres CS, {string.Join(", ", Flags.Select(f => "--" + f))}");
            }
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                throw new ArgumentException($"--{name} needs an integer value");
            }
            i++;
        }
        int Get(string name, int fallback, int min)
        {
            var i = Array.IndexOf(args, "--" + name);
            var value = i >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
            return value >= min ? value : throw new ArgumentException($"--{name} must be at least {min}, got {value}");
        }
        if (delivery.Length > 0 && clusters.Length > 0)
        {
            // The cluster profile delivers to its own PostgreSQL already, so its "off" run would not be one.
            throw new ArgumentException("--delivery cannot be combined with --cluster: measure delivery on the embedded silo");
        }
        if (delivery.Contains("postgres"))
        {
            postgres ??= Environment.GetEnvironmentVariable(ClusterProfile.PostgresVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
            if (postgres is null)
            {
                throw new ArgumentException($"--delivery postgres needs a PostgreSQL server to create its throwaway database on: give --postgres CS or set {ClusterProfile.PostgresVariable}");
            }
        }
        else if (postgres is not null)
        {
            throw new ArgumentException("--postgres is only used with --delivery postgres");
        }
        var trees = Get("trees", 0, 0);
        return new BenchOptions(Get("reviews", 200_000, 1), Get("batch", 500, 1), Get("concurrency", 4, 1), Get("half-load-seconds", 10, 1),
            Get("half-load-rate", 0, 0), Get("partitions", 16, 1), trees > 0 ? trees : null, Get("anomaly-shards", new PipelineOptions().AnomalyShards, 1), Get("anomaly-threads", new PipelineOptions().AnomalyThreads, 1),
            args.Contains("--silo-process"), args.Contains("--allocations"), lengths!, clusters, delivery, postgres);
    }
}

/// <summary>
/// A database created for one delivery run on the --postgres server and dropped after it, so that each run's
/// scored_reviews starts empty (as its silo's SQLite does) and nothing of the benchmark stays on the server.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _server;

    private BenchDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>The server's connection string with this database in it, for the silo.</summary>
    public string ConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string server)
    {
        // A Guid in "N" form is lower-case hex: a valid identifier that needs no quoting.
        var name = $"revieworleans_bench_{Guid.NewGuid():N}";
        await using (var connection = new Npgsql.NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new BenchDatabase(server, name, new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        // Pooled idle connections into the database would block the drop; FORCE ends any a stopped silo left open.
        Npgsql.NpgsqlConnection.ClearAllPools();
        await using var connection = new Npgsql.NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>The pipeline's per-review work in one thread, without Orleans or the network.</summary>
internal static class BareLoop
{
    /// <param name="pipeline">Partitions and anomaly shards, mapped as the grains map them.</param>
    /// <param name="trees">Trees per forest; 0 leaves the forest out.</param>
    public static double Run(List<PutReviewsRequest> batches, string modelPath, PipelineOptions pipeline, int trees)
    {
        var partitions = pipeline.Partitions;
        var withForest = trees > 0;
        using var scorer = SentimentScorerFactory.Load(modelPath);
        var features = new AnomalyFeatures(AnomalyFeatures.DefaultProfile, []);
        var forests = withForest
            ? Enumerable.Range(0, pipeline.EffectiveAnomalyShards).Select(p => new RandomCutForest(new RandomCutForestOptions { Dimensions = 5, NumberOfTrees = trees, Seed = 42 + p })).ToArray()
            : [];
        var windows = new Dictionary<string, TumblingWindowAggregator>();
        var distinct = new DistinctCounter();
        var seen = new RecentIdFilter(TimeSpan.FromMinutes(10), 1_000_000, 0);
        var results = new SentimentResult[256];
        var texts = new List<string>(256);
        var accepted = new List<ReviewMessage>(256);
        var clock = Stopwatch.StartNew();
        long count = 0;
        foreach (var batch in batches)
        {
            foreach (var chunk in batch.Records.Chunk(256))
            {
                texts.Clear();
                accepted.Clear();
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                foreach (var record in chunk)
                {
                    var review = ReviewApi.ToMessage(record.Review);
                    if (ReviewValidator.Validate(review) is null && seen.TryAdd(DistinctCounter.Hash(review.ReviewId), now))
                    {
                        accepted.Add(review);
                        texts.Add(review.ReviewBody);
                    }
                }
                scorer.Score(texts, results.AsSpan(0, texts.Count));
                for (var i = 0; i < accepted.Count; i++)
                {
                    var review = accepted[i];
                    Window(windows, review.ProductCategory).Add(now, results[i].ExpectedStars, results[i].PredictedStars);
                    Window(windows, StreamNames.AllCategories).Add(now, results[i].ExpectedStars, results[i].PredictedStars);
                    distinct.Add(review.ReviewId);
                    if (withForest)
                    {
                        var forest = forests[pipeline.AnomalyShardOf(StreamNames.PartitionOf(review.ReviewId, partitions))];
                        var point = features.Extract(review, results[i].PredictedStars);
                        forest.Score(point);
                        forest.Update(point);
                    }
                }
                count += accepted.Count;
            }
        }
        return count / clock.Elapsed.TotalSeconds;
    }

    private static TumblingWindowAggregator Window(Dictionary<string, TumblingWindowAggregator> windows, string category)
    {
        if (!windows.TryGetValue(category, out var aggregator))
        {
            aggregator = new TumblingWindowAggregator(new TumblingWindowOptions());
            windows[category] = aggregator;
        }
        return aggregator;
    }
}

/// <summary>The "All" category's windows as WatchMetrics delivers them, with their arrival time.</summary>
internal sealed class WindowLog
{
    private readonly List<double> _latencies = [];
    private volatile bool _recording;

    public long RecordedCount { get; private set; }

    public void StartRecording() => _recording = true;

    public void StopRecording() => _recording = false;

    public async Task FollowAsync(ReviewGateway.ReviewGatewayClient gateway, CancellationToken cancel)
    {
        using var call = gateway.WatchMetrics(new WatchMetricsRequest { Category = StreamNames.AllCategories }, cancellationToken: cancel);
        await foreach (var window in call.ResponseStream.ReadAllAsync(cancel))
        {
            var arrived = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (!_recording || window.IsUpdate)
            {
                continue;
            }
            // Reviews are accepted at a steady rate, so those of one window were ingested evenly across it.
            var size = window.WindowEndMs - window.WindowStartMs;
            lock (_latencies)
            {
                for (long k = 0; k < window.Count; k++)
                {
                    _latencies.Add(arrived - (window.WindowStartMs + (k + 0.5) * size / window.Count));
                }
                RecordedCount += window.Count;
            }
        }
    }

    public double Percentile(double quantile)
    {
        lock (_latencies)
        {
            if (_latencies.Count == 0)
            {
                return double.NaN;
            }
            _latencies.Sort();
            return _latencies[Math.Min(_latencies.Count - 1, (int)Math.Ceiling(quantile * _latencies.Count) - 1)];
        }
    }
}

/// <summary>
/// The runtime's allocation sampling (one GCAllocationTick event per ~100 KB allocated, naming the type that crossed
/// the mark), summed by type: where the bytes of a phase go, in this process, without a profiler.
/// </summary>
internal sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private readonly Dictionary<string, (long Bytes, int Samples)> _byType = [];
    private volatile bool _stopped;

    /// <summary>Ends the phase: later samples (the wait for windows, say) are not counted.</summary>
    public void Stop() => _stopped = true;

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (_stopped || e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null || e.PayloadNames is null)
        {
            return;
        }
        var typeIndex = e.PayloadNames.IndexOf("TypeName");
        var amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
        amountIndex = amountIndex >= 0 ? amountIndex : e.PayloadNames.IndexOf("AllocationAmount");
        if (amountIndex < 0)
        {
            return;
        }
        var type = typeIndex >= 0 ? e.Payload[typeIndex] as string ?? "?" : "?";
        var amount = Convert.ToInt64(e.Payload[amountIndex], CultureInfo.InvariantCulture);
        lock (_byType)
        {
            var current = _byType.GetValueOrDefault(type);
            _byType[type] = (current.Bytes + amount, current.Samples + 1);
        }
    }

    public void Print(int reviews)
    {
        lock (_byType)
        {
            var total = _byType.Values.Sum(v => v.Bytes);
            Console.WriteLine($"allocations sampled: {total / (double)reviews:N0} bytes per review; by type (sampled at ~100 KB):");
            foreach (var (type, value) in _byType.OrderByDescending(kv => kv.Value.Bytes).Take(25))
            {
                Console.WriteLine($"  {value.Bytes / (double)reviews,8:N0} B/review {value.Bytes * 100.0 / total,5:F1} %  {type}");
            }
        }
    }
}
