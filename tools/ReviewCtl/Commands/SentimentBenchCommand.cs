using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ReviewOrleans.Sentiment;
using ReviewOrleans.Sentiment.Bert;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl bench sentiment</c>: reviews/s and p50/p99 batch latency of the default model and of a
/// DistilBERT-sized random-weight model built on the spot, at batch sizes 1, 32 and 256, tokenization included,
/// on one thread and on all cores, plus managed bytes allocated per batch. Texts are the womens-clothing reviews
/// when shared/data is present (else seeded synthetic reviews of similar length).
/// </summary>
internal static class SentimentBenchCommand
{
    private static readonly int[] BatchSizes = [1, 32, 256];

    public static Task<int> RunAsync(string[] args)
    {
        try
        {
            return Task.FromResult(Run(args));
        }
        catch (SentimentModelException ex)
        {
            Console.Error.WriteLine($"reviewctl bench sentiment: {ex.Message}");
            return Task.FromResult(1);
        }
    }

    private static int Run(string[] args)
    {
        var cl = new CommandLine(args, "no-bert");
        var modelPath = cl.String("model");
        var seconds = cl.Double("seconds", 3);
        var bertSeconds = cl.Double("bert-seconds", 6);
        var noBert = cl.Flag("no-bert");
        var bertLayers = cl.Int("bert-layers", 6);
        var json = cl.Json;
        cl.RejectUnknownOptions();
        if (seconds <= 0 || bertSeconds <= 0 || bertLayers < 1)
        {
            throw new CommandLineException("--seconds, --bert-seconds and --bert-layers must be positive");
        }
        var log = json ? Console.Error : Console.Out;
        var cores = Environment.ProcessorCount;
        var (texts, source) = LoadTexts();
        log.WriteLine($"{texts.Count} texts from {source}, mean {texts.Average(t => t.Length):0} characters; {cores} cores; .NET {Environment.Version}; " +
            $"load average at start: {LoadAverage()}");

        var rows = new List<Row>();
        var fastPath = modelPath ?? DefaultSentimentModel.FindPath();
        rows.AddRange(Measure("fast", fastPath, texts, seconds, cores, callersMode: true, log));

        string? bertDir = null;
        if (!noBert)
        {
            bertDir = Path.Combine(Path.GetTempPath(), "reviewctl-bench-bert-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            var build = Stopwatch.StartNew();
            var shape = BertShape.DistilBertBase() with { Layers = bertLayers };
            var vocabulary = BertModelBuilder.Vocabulary(TopWords(texts, shape.VocabSize), shape.VocabSize);
            var bertPath = BertModelBuilder.WriteModelDirectory(bertDir, shape, vocabulary, maxTokens: 64, seed: 1);
            log.WriteLine($"built DistilBERT-sized model ({shape.Layers} layers, hidden {shape.Hidden}, {shape.Heads} heads, 64 tokens, " +
                $"{shape.ParameterCount / 1e6:0.0} M parameters, {new FileInfo(Path.Combine(bertDir, "model.onnx")).Length / 1048576.0:0} MiB) in {build.Elapsed.TotalSeconds:0.0} s");
            try
            {
                rows.AddRange(Measure("distilbert", bertPath, texts, bertSeconds, cores, callersMode: false, log));
            }
            finally
            {
                Directory.Delete(bertDir, recursive: true);
            }
        }

        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["texts"] = texts.Count,
                ["source"] = source,
                ["cores"] = cores,
                ["loadAverageAtEnd"] = LoadAverage(),
                ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)r.ToJson())]),
            }.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return 0;
        }
        Console.WriteLine();
        Console.WriteLine($"{"model",-11} {"mode",-22} {"batch",5} {"reviews/s",12} {"p50 ms",9} {"p99 ms",9} {"batches",8} {"alloc B/batch",14} {"CPU us/review",14}");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Model,-11} {r.Mode,-22} {r.Batch,5} {r.ReviewsPerSecond,12:N0} {r.P50Ms,9:0.000} {r.P99Ms,9:0.000} {r.Batches,8} {(r.AllocatedPerBatch < 0 ? "-" : r.AllocatedPerBatch.ToString("N0", CultureInfo.InvariantCulture)),14} {r.CpuMicrosecondsPerReview,14:N1}"));
        }
        Console.WriteLine($"load average at end: {LoadAverage()}");
        Console.WriteLine();
        foreach (var batch in BatchSizes)
        {
            var fast = rows.FirstOrDefault(r => r.Model == "fast" && r.Mode == "1 thread" && r.Batch == batch);
            var bert = rows.FirstOrDefault(r => r.Model == "distilbert" && r.Mode == "1 thread" && r.Batch == batch);
            if (fast is not null && bert is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"batch {batch,3}, 1 thread: fast model is {fast.ReviewsPerSecond / bert.ReviewsPerSecond:N0}x the DistilBERT-sized model's reviews/s"));
            }
        }
        return 0;
    }

    private static IEnumerable<Row> Measure(string name, string manifest, List<string> texts, double seconds, int cores, bool callersMode, TextWriter log)
    {
        var modes = new List<(string Mode, int Intra, int Callers)> { ("1 thread", 1, 1), ($"all cores: intra-op {cores}", cores, 1) };
        if (callersMode)
        {
            modes.Add(($"all cores: {cores} callers", 1, cores));
        }
        foreach (var (mode, intra, callers) in modes)
        {
            using var scorer = SentimentScorerFactory.Load(manifest, new SentimentScorerOptions { IntraOpThreads = intra, MaxBatchSize = 256 });
            scorer.Score(texts.GetRange(0, name == "fast" ? 256 : 1)); // warm-up: session allocations, JIT
            foreach (var batch in BatchSizes)
            {
                var row = Run(name, mode, scorer, texts, batch, seconds, callers);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name} / {mode} / batch {batch}: {row.ReviewsPerSecond:N0} reviews/s, p50 {row.P50Ms:0.000} ms, p99 {row.P99Ms:0.000} ms ({row.Batches} batches)"));
                yield return row;
            }
        }
    }

    private static Row Run(string name, string mode, ISentimentScorer scorer, List<string> texts, int batch, double seconds, int callers)
    {
        var latencies = new List<double>[callers];
        long allocated = -1;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            var mine = latencies[c] = [];
            var batches = Batches(texts, batch, c * 7919);
            var results = new SentimentResult[batch];
            var first = true;
            var startAlloc = 0L;
            var index = 0;
            do
            {
                var b = batches[index++ % batches.Count];
                var start = Stopwatch.GetTimestamp();
                scorer.Score(b, results);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                if (first && c == 0)
                {
                    // Count allocations from the second batch on: steady state, not first-use buffers.
                    startAlloc = GC.GetAllocatedBytesForCurrentThread();
                    first = false;
                }
            }
            while (Stopwatch.GetTimestamp() < deadline);
            if (c == 0 && mine.Count > 1)
            {
                allocated = (GC.GetAllocatedBytesForCurrentThread() - startAlloc) / (mine.Count - 1);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        var elapsed = wall.Elapsed.TotalSeconds;
        process.Refresh();
        var all = latencies.SelectMany(l => l).Order().ToList();
        // CPU time of the whole process per review: less sensitive than wall time to other work on a shared machine
        // (it still counts ONNX Runtime's spinning pool threads in the intra-op mode).
        var cpuMicroseconds = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds * 1000 / (all.Count * (double)batch);
        return new Row(name, mode, batch, all.Count * (double)batch / elapsed, Percentile(all, 0.50), Percentile(all, 0.99), all.Count,
            callers == 1 ? allocated : -1, cpuMicroseconds);
    }

    /// <summary>The texts cut into batches of <paramref name="size"/>, starting at a caller-specific offset.</summary>
    private static List<List<string>> Batches(List<string> texts, int size, int offset)
    {
        var result = new List<List<string>>();
        for (var i = 0; i < Math.Max(texts.Count / size, 1); i++)
        {
            result.Add([.. Enumerable.Range(0, size).Select(j => texts[(offset + (i * size) + j) % texts.Count])]);
        }
        return result;
    }

    /// <summary>The 1-minute load average (Linux), printed because other work on a shared machine moves every figure.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static (List<string> Texts, string Source) LoadTexts()
    {
        var data = SharedDataLocator.Find(Environment.CurrentDirectory) ?? SharedDataLocator.Find();
        var csv = data is null ? null : Path.Combine(data, SentimentDataSplits.Clothing, "reviews.csv");
        if (csv is not null && File.Exists(csv))
        {
            using var reader = new StreamReader(csv, Encoding.UTF8);
            var rows = CsvReader.Read(reader).Skip(1).Where(r => r.Length > 4).Select(r => SentimentDataSplits.JoinTitle(r[3], r[4])).Where(t => t.Length > 0).ToList();
            return (rows, csv);
        }
        var random = new Random(42);
        string[] words = ["the", "dress", "fits", "great", "love", "color", "but", "small", "fabric", "returned", "not", "perfect", "size", "quality", "!"];
        var synthetic = Enumerable.Range(0, 20000)
            .Select(_ => string.Join(' ', Enumerable.Range(0, random.Next(10, 90)).Select(_ => words[random.Next(words.Length)])))
            .ToList();
        return (synthetic, "synthetic reviews (shared/data not found)");
    }

    private static IEnumerable<string> TopWords(List<string> texts, int count) =>
        texts.SelectMany(t => t.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Select(w => w.Trim('.', ',', '!', '?', '"', '(', ')', '-', ';', ':', '\''))
            .Where(w => w.Length > 0 && w.All(char.IsLetterOrDigit))
            .GroupBy(w => w, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(count)
            .Select(g => g.Key);

    private sealed record Row(string Model, string Mode, int Batch, double ReviewsPerSecond, double P50Ms, double P99Ms, int Batches, long AllocatedPerBatch, double CpuMicrosecondsPerReview)
    {
        public JsonObject ToJson() => new()
        {
            ["model"] = Model,
            ["mode"] = Mode,
            ["batch"] = Batch,
            ["reviewsPerSecond"] = Math.Round(ReviewsPerSecond, 1),
            ["p50Ms"] = Math.Round(P50Ms, 4),
            ["p99Ms"] = Math.Round(P99Ms, 4),
            ["batches"] = Batches,
            ["allocatedBytesPerBatch"] = AllocatedPerBatch < 0 ? null : AllocatedPerBatch,
            ["cpuMicrosecondsPerReview"] = Math.Round(CpuMicrosecondsPerReview, 2),
        };
    }
}
