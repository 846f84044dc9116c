using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ReviewOrleans.Analytics.Forest;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl bench rcf</c>: scored-and-updated points per second of <see cref="RandomCutForest"/> on the sine
/// series of the fidelity anchors (amplitude 5, noise σ 0.5, +25 spikes), in process for d=1 and d=4 one record
/// at a time and through the batch API (one thread, then all), per record on a star-rating stream, and as a whole <c>reviewctl rcf</c> process
/// (start-up, CSV parsing and output included) on a CSV file.
/// </summary>
internal static class RcfBenchCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args, "no-process");
        var points = cl.Int("points", 200_000);
        var trees = cl.Int("trees", 100);
        var sampleSize = cl.Int("sample-size", 256);
        var repeats = cl.Int("repeats", 3);
        var csvPath = cl.String("csv");
        var skipProcess = cl.Flag("no-process");
        var json = cl.Json;
        cl.RejectUnknownOptions();
        if (points < 1_000 || repeats < 1)
        {
            throw new CommandLineException("--points must be at least 1000 and --repeats at least 1");
        }

        var results = new List<(string Name, double PointsPerSecond, double PointsPerCpuSecond)>();
        foreach (var dims in new[] { 1, 4 })
        {
            var data = SineSeries(points, dims, seed: 42);
            var options = new RandomCutForestOptions { Dimensions = dims, NumberOfTrees = trees, SampleSize = sampleSize };
            // Warm-up pass so that tiered JIT has produced optimised code before timing.
            RunForest(options, data, dims, Math.Min(points, 20_000), score: true);
            RunForest(options, data, dims, Math.Min(points, 20_000), score: false);
            // Updates alone (sampler draws and tree changes, no scoring) show how the per-record time divides.
            foreach (var score in new[] { true, false })
            {
                var (wall, cpu) = BestOf(repeats, () => RunForest(options, data, dims, points, score));
                results.Add(($"{(score ? "per record" : "update only")} d={dims}", points / wall, points / cpu));
            }

            // The batch API (blocks of 4,096 records; results identical to one record at a time), on the calling
            // thread and on all processors (groups of trees in parallel).
            foreach (var threads in new[] { 1, Environment.ProcessorCount }.Distinct())
            {
                var (wall, cpu) = BestOf(repeats, () => RunBatches(options, data, dims, points, threads));
                results.Add(($"batch d={dims}, {threads} thread{(threads == 1 ? "" : "s")}", points / wall,
                    threads == 1 ? points / cpu : double.NaN));
            }
        }

        // A star-rating stream (KDA's RANDOM_CUT_FOREST over star_rating): five values, so most trees' scores of a
        // repeated value are reused until a tree changes.
        {
            var stars = StarRatings(points, seed: 42);
            var options = new RandomCutForestOptions { Dimensions = 1, NumberOfTrees = trees, SampleSize = sampleSize };
            RunForest(options, stars, 1, Math.Min(points, 20_000), score: true);
            var (wall, cpu) = BestOf(repeats, () => RunForest(options, stars, 1, points, score: true));
            results.Add(("per record, star ratings", points / wall, points / cpu));
        }

        string? command = null;
        if (!skipProcess)
        {
            var file = csvPath ?? Path.Combine(Path.GetTempPath(), $"reviewctl-rcf-bench-{points}.csv");
            WriteCsv(file, SineSeries(points, 1, seed: 42), 1);
            command = $"{ReviewCtlCommand()} rcf --trees {trees} --sample-size {sampleSize} < {file} > /dev/null";
            double best = double.MaxValue;
            for (var r = 0; r < repeats; r++)
            {
                var watch = Stopwatch.StartNew();
                using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { UseShellExecute = false })
                    ?? throw new InvalidOperationException("could not start /bin/sh");
                process.WaitForExit();
                watch.Stop();
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"'{command}' exited with code {process.ExitCode}");
                }
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            results.Add(("whole process d=1", points / best, double.NaN));
            if (csvPath is null)
            {
                File.Delete(file);
            }
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                points,
                trees,
                sampleSize,
                repeats,
                processorCount = Environment.ProcessorCount,
                wholeProcessCommand = command,
                results = results.Select(r => new { name = r.Name, pointsPerSecond = Math.Round(r.PointsPerSecond), pointsPerCpuSecond = double.IsNaN(r.PointsPerCpuSecond) ? (double?)null : Math.Round(r.PointsPerCpuSecond) }),
            }));
            return Task.FromResult(0);
        }
        Console.WriteLine($"RCF throughput: {points:N0} points, {trees} trees x {sampleSize} samples, best of {repeats}, {Environment.ProcessorCount} logical CPUs");
        foreach (var (name, perSecond, perCpu) in results)
        {
            var cpuText = double.IsNaN(perCpu) ? "" : string.Create(CultureInfo.InvariantCulture, $"   ({perCpu,10:N0} points per CPU-second)");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-26} {perSecond,10:N0} points/s{cpuText}"));
        }
        if (command is not null)
        {
            Console.WriteLine($"  whole process measured as: {command}");
        }
        return Task.FromResult(0);
    }

    /// <summary>
    /// How this reviewctl was started: its apphost, or <c>dotnet reviewctl.dll</c> (then the process is the dotnet
    /// host, which needs the assembly's path as well).
    /// </summary>
    private static string ReviewCtlCommand()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot locate the reviewctl executable");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"{process} {typeof(RcfBenchCommand).Assembly.Location}"
            : process;
    }

    /// <summary>The shortest wall-clock and CPU time, in seconds, of <paramref name="repeats"/> runs.</summary>
    private static (double Wall, double Cpu) BestOf(int repeats, Action run)
    {
        double bestWall = double.MaxValue, bestCpu = double.MaxValue;
        for (var r = 0; r < repeats; r++)
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            run();
            watch.Stop();
            bestWall = Math.Min(bestWall, watch.Elapsed.TotalSeconds);
            bestCpu = Math.Min(bestCpu, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds);
        }
        return (bestWall, bestCpu);
    }

    private static void RunBatches(RandomCutForestOptions options, double[] data, int dims, int points, int threads)
    {
        const int Block = 4096;
        var forest = new RandomCutForest(options);
        var scores = new double[Block];
        for (var start = 0; start < points; start += Block)
        {
            var count = Math.Min(Block, points - start);
            forest.ScoreAndUpdate(data.AsSpan(start * dims, count * dims), scores, threads);
        }
    }

    private static void RunForest(RandomCutForestOptions options, double[] data, int dims, int points, bool score)
    {
        var forest = new RandomCutForest(options);
        double sink = 0;
        for (var i = 0; i < points; i++)
        {
            if (score)
            {
                sink += forest.ScoreAndUpdate(data.AsSpan(i * dims, dims));
            }
            else
            {
                forest.Update(data.AsSpan(i * dims, dims));
            }
        }
        GC.KeepAlive(sink);
    }

    /// <summary>Star ratings 1–5 drawn with the skew of product reviews (5 stars most common).</summary>
    private static double[] StarRatings(int points, int seed)
    {
        var random = new Random(seed);
        double[] cumulative = [0.08, 0.14, 0.26, 0.45, 1.0];
        var data = new double[points];
        for (var i = 0; i < points; i++)
        {
            var u = random.NextDouble();
            data[i] = 1 + Array.FindIndex(cumulative, c => u < c);
        }
        return data;
    }

    /// <summary>
    /// The anchors' series: column j at row t is 10 + 5·sin(2π(t/50 + j/7)) + N(0, 0.5²), with +25 on column 0 at
    /// every 500th row (rows 500, 1000, … ).
    /// </summary>
    internal static double[] SineSeries(int points, int dims, int seed)
    {
        var random = new Random(seed);
        var data = new double[points * dims];
        for (var t = 0; t < points; t++)
        {
            for (var j = 0; j < dims; j++)
            {
                var u1 = 1.0 - random.NextDouble();
                var u2 = random.NextDouble();
                var noise = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * 0.5;
                data[t * dims + j] = 10 + 5 * Math.Sin(2 * Math.PI * (t / 50.0 + j / 7.0)) + noise;
            }
            if (t > 0 && t % 500 == 0)
            {
                data[t * dims] += 25;
            }
        }
        return data;
    }

    private static void WriteCsv(string path, double[] data, int dims)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        for (var t = 0; t < data.Length / dims; t++)
        {
            for (var j = 0; j < dims; j++)
            {
                if (j > 0)
                {
                    writer.Write(',');
                }
                writer.Write(data[t * dims + j].ToString("F4", CultureInfo.InvariantCulture));
            }
            writer.Write('\n');
        }
    }
}
