using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
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
using ReviewOrleans.Sentiment;
using ReviewOrleans.Silo;
using ReviewOrleans.Synthetic;

// End-to-end benchmark: reviews through the gRPC gateway, the "reviews" stream, scoring and window emission, side
// by side with a bare single-threaded loop doing the same parse, score and aggregate work (the ceiling).
// Usage: dotnet run -c Release --project bench/PlatformBench -- [--reviews N] [--batch B] [--concurrency C] [--half-load-seconds S]
//        [--trees T] [--half-load-rate R] [--partitions P] [--anomaly-shards A] [--silo-process] [--allocations]
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
Console.WriteLine($"ReviewOrleans platform benchmark: {options.Reviews:N0} reviews, batches of {options.Batch}, {options.Concurrency} calls in flight, {options.Partitions} partitions, {Math.Min(options.AnomalyShards, options.Partitions)} anomaly shards, {Environment.ProcessorCount} cores, {(Debugger.IsAttached ? "debugger" : BuildKind())} build");

var batches = Batches(seed: 1, options.Reviews, options.Batch);
var modelPath = DefaultSentimentModel.FindPath();

// 1. The ceiling: one thread, no Orleans, no network.
var trees = options.Trees ?? new PipelineOptions().EffectiveAnomalyTrees;
var pipeline = new PipelineOptions { Partitions = options.Partitions, AnomalyShards = options.AnomalyShards };
var bare = BareLoop.Run(batches, modelPath, pipeline, trees);
var bareNoForest = BareLoop.Run(batches, modelPath, pipeline, trees: 0);
Console.WriteLine($"bare loop, parse+validate+dedup+score+windows+distinct+RCF ({trees} trees): {bare:N0} reviews/s");
Console.WriteLine($"bare loop, same without RCF:                            {bareNoForest:N0} reviews/s");

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
    $"--Pipeline:AnomalyShards={options.AnomalyShards}"];
await using var platform = options.SiloProcess
    ? await SiloUnderTest.StartProcessAsync(siloArgs, httpPort, orleansGatewayPort)
    : await SiloUnderTest.StartInProcessAsync(siloArgs);
var cluster = platform.Cluster;
using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
var gateway = new ReviewGateway.ReviewGatewayClient(channel);

var windows = new WindowLog();
using var watchCancel = new CancellationTokenSource();
var watch = windows.FollowAsync(gateway, watchCancel.Token);

// Warm-up: JIT, grain activations, model sessions.
await SendAllAsync(gateway, Batches(seed: 2, 20_000, options.Batch), options.Concurrency, rate: 0);
await WaitScoredAsync(cluster, options.Partitions, 20_000);

var before = await StatsAsync(cluster, options.Partitions);
var clock = Stopwatch.StartNew();
await SendAllAsync(gateway, batches, options.Concurrency, rate: 0);
var acceptedSeconds = clock.Elapsed.TotalSeconds;
await WaitScoredAsync(cluster, options.Partitions, before.Scored + options.Reviews);
var scoredSeconds = clock.Elapsed.TotalSeconds;
var throughput = options.Reviews / scoredSeconds;
Console.WriteLine($"platform, max load: {options.Reviews / acceptedSeconds:N0} reviews/s accepted by the gateway, {throughput:N0} reviews/s scored end to end ({scoredSeconds:F1} s)");

// 3. Latency at half that load (or at --half-load-rate, e.g. half the 50,000/s target).
var halfRate = options.HalfLoadRate > 0 ? options.HalfLoadRate : throughput / 2;
var halfCount = (int)(halfRate * options.HalfLoadSeconds);
var halfBatches = Batches(seed: 3, halfCount, Math.Max(1, Math.Min(options.Batch, (int)(halfRate / 50))));
// Let the max-load phase's windows close (window + lateness + a tick), so none is taken for a half-load one.
var pipelineDefaults = new PipelineOptions();
await Task.Delay(pipelineDefaults.WindowSize + pipelineDefaults.AllowedLateness + TimeSpan.FromSeconds(1));
GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
var heapBeforeHalf = GC.GetGCMemoryInfo().HeapSizeBytes;
before = await StatsAsync(cluster, options.Partitions);
windows.StartRecording();
var gcBefore = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2), Pause: GC.GetTotalPauseDuration(), Allocated: GC.GetTotalAllocatedBytes());
using var allocationSampler = options.Allocations ? new AllocationSampler() : null;
var halfStart = Stopwatch.StartNew();
await SendAllAsync(gateway, halfBatches, concurrency: 1, rate: halfRate);
var sentRate = halfCount / halfStart.Elapsed.TotalSeconds;
await WaitScoredAsync(cluster, options.Partitions, before.Scored + halfCount);
var after = await StatsAsync(cluster, options.Partitions);
allocationSampler?.Stop();
var halfSeconds = halfStart.Elapsed.TotalSeconds;
var gcPause = GC.GetTotalPauseDuration() - gcBefore.Pause;
var gcCount = GC.CollectionCount(0) - gcBefore.Gen0;
var allocatedPerReview = (GC.GetTotalAllocatedBytes() - gcBefore.Allocated) / (double)halfCount;
var lastEphemeral = GC.GetGCMemoryInfo(GCKind.Ephemeral);
var delta = after.LatencyBuckets.Zip(before.LatencyBuckets, (a, b) => a - b).ToArray();
await Eventually(() => windows.RecordedCount >= halfCount, TimeSpan.FromSeconds(30));
windows.StopRecording();
Console.WriteLine($"platform, half load ({sentRate:N0} reviews/s for {options.HalfLoadSeconds} s): ingest->scored p50 {PartitionStats.Percentile(delta, 0.5)} ms, p99 {PartitionStats.Percentile(delta, 0.99)} ms");
Console.WriteLine($"                                    GC{(options.SiloProcess ? " of this client process (the silo's own is apart)" : "")}: heap {heapBeforeHalf / (1 << 20):N0} MiB before (the half-load requests included), {GC.GetGCMemoryInfo().HeapSizeBytes / (1 << 20):N0} MiB after, {gcCount} collections ({GC.CollectionCount(1) - gcBefore.Gen1} gen1, {GC.CollectionCount(2) - gcBefore.Gen2} gen2), paused {gcPause.TotalMilliseconds:F0} ms ({gcPause.TotalSeconds / halfSeconds:P1} of the time, {gcPause.TotalMilliseconds / Math.Max(1, gcCount):F1} ms per collection); {allocatedPerReview:N0} bytes allocated per review; last gen{lastEphemeral.Generation} collection promoted {lastEphemeral.PromotedBytes / 1024:N0} KiB in {lastEphemeral.PauseDurations[0].TotalMilliseconds:F1} ms");
Console.WriteLine($"                                    ingest->window emitted p50 {windows.Percentile(0.5):F0} ms, p99 {windows.Percentile(0.99):F0} ms (window {new PipelineOptions().WindowSize.TotalSeconds:F0} s)");
allocationSampler?.Print(halfCount);
Console.WriteLine();
Console.WriteLine($"ratio platform/bare loop: {throughput / bare:P0} (bare loop with RCF), {throughput / bareNoForest:P0} (without RCF)");

watchCancel.Cancel();
try { await watch; } catch (OperationCanceledException) { } catch (Grpc.Core.RpcException) { }
await platform.DisposeAsync();
try { Directory.Delete(directory, true); } catch (IOException) { }
return 0;

static string BuildKind() =>
#if DEBUG
    "Debug (use -c Release for figures)";
#else
    "Release";
#endif

static List<PutReviewsRequest> Batches(int seed, int count, int batch)
{
    var generator = new SyntheticReviewGenerator(seed);
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

static async Task<PartitionStats> StatsAsync(IClusterClient cluster, int partitions)
{
    var all = await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => cluster.GetGrain<IReviewPartitionGrain>(p).GetStats()));
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

static async Task WaitScoredAsync(IClusterClient cluster, int partitions, long target)
{
    var deadline = Stopwatch.StartNew();
    while ((await StatsAsync(cluster, partitions)).Scored < target)
    {
        if (deadline.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException($"fewer than {target} reviews scored after 5 minutes");
        }
        await Task.Delay(20);
    }
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

internal sealed record BenchOptions(int Reviews, int Batch, int Concurrency, int HalfLoadSeconds, int HalfLoadRate, int Partitions, int? Trees, int AnomalyShards, bool SiloProcess, bool Allocations)
{
    private static readonly string[] Valued = ["reviews", "batch", "concurrency", "half-load-seconds", "half-load-rate", "partitions", "trees", "anomaly-shards"];
    private static readonly string[] Flags = ["silo-process", "allocations"];

    /// <exception cref="ArgumentException">An unknown option, a missing or non-integer value, or one out of range.</exception>
    public static BenchOptions Parse(string[] args)
    {
        // A misspelt option or --name=value silently fell back to the default before, measuring something else.
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : null;
            if (name is not null && Flags.Contains(name))
            {
                continue;
            }
            if (name is null || !Valued.Contains(name))
            {
                throw new ArgumentException($"unknown option '{args[i]}'; options: {string.Join(", ", Valued.Select(v => $"--{v} N"))}, {string.Join(", ", Flags.Select(f => "--" + f))}");
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
        var trees = Get("trees", 0, 0);
        return new BenchOptions(Get("reviews", 200_000, 1), Get("batch", 500, 1), Get("concurrency", 4, 1), Get("half-load-seconds", 10, 1),
            Get("half-load-rate", 0, 0), Get("partitions", 16, 1), trees > 0 ? trees : null, Get("anomaly-shards", new PipelineOptions().AnomalyShards, 1),
            args.Contains("--silo-process"), args.Contains("--allocations"));
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
