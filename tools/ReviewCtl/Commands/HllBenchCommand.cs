using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ReviewOrleans.Analytics.Counting;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl bench hll</c>: RMS relative error of <see cref="DistinctCounter"/> at 10^5 and 10^6 distinct items
/// over seeded trials, the size of its saved state, and its update rate on 14-character review ids.
/// </summary>
internal static class HllBenchCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args);
        var trials = cl.Int("trials", 200);
        var seed = cl.Long("seed", 42);
        var idCount = cl.Int("ids", 2_000_000);
        var json = cl.Json;
        cl.RejectUnknownOptions();
        if (trials < 2 || idCount < 1_000_000)
        {
            throw new CommandLineException("--trials must be at least 2 and --ids at least 1000000");
        }

        // Accuracy: each trial feeds n distinct pseudo-random 64-bit hashes (an ideal hash function) from its own seed.
        var accuracy = new List<(long N, double Rms, double Bias, double MaxAbs)>();
        foreach (var n in new long[] { 100_000, 1_000_000 })
        {
            double sumSq = 0, sum = 0, maxAbs = 0;
            for (var t = 0; t < trials; t++)
            {
                var counter = new DistinctCounter();
                // SplitMix64 streams from nearby states overlap (the state only advances by a constant), so each
                // trial starts at a scrambled point of the cycle.
                var mix = (ulong)seed * 0xD1B54A32D192ED03UL ^ (ulong)t * 0x9E3779B97F4A7C15UL ^ (ulong)n;
                var state = NextSplitMix(ref mix);
                for (long i = 0; i < n; i++)
                {
                    counter.AddHash(NextSplitMix(ref state));
                }
                var error = (counter.Estimate() - n) / n;
                sumSq += error * error;
                sum += error;
                maxAbs = Math.Max(maxAbs, Math.Abs(error));
            }
            accuracy.Add((n, Math.Sqrt(sumSq / trials), sum / trials, maxAbs));
        }

        // One trial through the real item hash on 10^6 distinct review ids, to show it behaves like the ideal hash.
        var ids = ReviewIds(idCount, seed);
        var real = new DistinctCounter();
        for (var i = 0; i < 1_000_000; i++)
        {
            real.Add(ids[i]);
        }
        var realError = (real.Estimate() - 1_000_000) / 1_000_000.0;
        var stateBytes = real.ToBytes().Length;

        // Update rate: Add(string) on 14-character ids with the counter already past the exact limit.
        var timed = new DistinctCounter();
        for (var i = 0; i < 20_000; i++)
        {
            timed.Add(ids[i]);
        }
        double bestAdd = double.MaxValue, bestHash = double.MaxValue;
        ulong sink = 0;
        for (var r = 0; r < 5; r++)
        {
            var watch = Stopwatch.StartNew();
            foreach (var id in ids)
            {
                timed.Add(id);
            }
            bestAdd = Math.Min(bestAdd, watch.Elapsed.TotalSeconds);
            watch.Restart();
            foreach (var id in ids)
            {
                sink += DistinctCounter.Hash(id);
            }
            bestHash = Math.Min(bestHash, watch.Elapsed.TotalSeconds);
        }
        GC.KeepAlive(sink);
        var addRate = ids.Length / bestAdd;
        var hashRate = ids.Length / bestHash;

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                trials,
                seed,
                accuracy = accuracy.Select(a => new { distinct = a.N, rmsRelativeError = a.Rms, meanRelativeError = a.Bias, maxAbsRelativeError = a.MaxAbs }),
                realHashRelativeErrorAt1e6 = realError,
                stateBytes,
                registerBytes = DistinctCounter.SketchRegisterBytes,
                addStringPerSecond = Math.Round(addRate),
                hashOnlyPerSecond = Math.Round(hashRate),
            }));
            return Task.FromResult(0);
        }
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"Distinct counter (UltraLogLog p={DistinctCounter.SketchPrecision}, {DistinctCounter.SketchRegisterBytes:N0} register bytes; saved state {stateBytes:N0} bytes)"));
        Console.WriteLine(string.Create(c, $"  accuracy over {trials} seeded trials (seed {seed}), ideal 64-bit hashes:"));
        foreach (var (n, rms, bias, maxAbs) in accuracy)
        {
            Console.WriteLine(string.Create(c, $"    n = {n,9:N0}: RMS relative error {rms:P3}, mean error {bias:P3}, max |error| {maxAbs:P3}"));
        }
        Console.WriteLine(string.Create(c, $"  one trial with XxHash3 over 10^6 distinct 14-char review ids: error {realError:P3}"));
        Console.WriteLine(string.Create(c, $"  Add(string), 14-char ids, sketch mode: {addRate / 1e6,6:F1} M updates/s (hash alone {hashRate / 1e6:F1} M/s), best of 5 x {ids.Length:N0}"));
        return Task.FromResult(0);
    }

    private static ulong NextSplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Distinct 14-character ids shaped like review ids ("R" + 13 upper-case alphanumerics).</summary>
    internal static string[] ReviewIds(int count, long seed)
    {
        const string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        var random = new Random((int)seed);
        var ids = new string[count];
        var seen = new HashSet<string>(count);
        Span<char> buffer = stackalloc char[14];
        buffer[0] = 'R';
        for (var i = 0; i < count;)
        {
            for (var j = 1; j < 14; j++)
            {
                buffer[j] = alphabet[random.Next(alphabet.Length)];
            }
            var id = new string(buffer);
            if (seen.Add(id))
            {
                ids[i++] = id;
            }
        }
        return ids;
    }
}
