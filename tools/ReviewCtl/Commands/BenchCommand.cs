namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl bench NAME</c>: benchmark programs that print figures. One table of subcommands; each benchmark
/// lives in its own file and receives the arguments after its name.
/// </summary>
internal static class BenchCommand
{
    private static readonly SortedDictionary<string, (string Summary, Func<string[], Task<int>> Run)> Benchmarks =
        new(StringComparer.Ordinal)
        {
            ["rcf"] = ("Random Cut Forest throughput: in-process d=1 and d=4, whole process on a 200,000-point CSV", RcfBenchCommand.RunAsync),
            ["hll"] = ("distinct counter: RMS error at 1e5 and 1e6 over seeded trials, state size, updates/s", HllBenchCommand.RunAsync),
            ["delivery"] = ("scored-review delivery: records/s into PostgreSQL (COPY) and gzip JSON-lines files", DeliveryBenchCommand.RunAsync),
            ["sentiment"] = ("sentiment scoring: default vs DistilBERT-sized model, batch 1/32/256, 1 thread and all cores", SentimentBenchCommand.RunAsync),
        };

    public static Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine("usage: reviewctl bench NAME [options]\n\nBenchmarks:");
            foreach (var (name, (summary, _)) in Benchmarks)
            {
                Console.WriteLine($"  {name,-10} {summary}");
            }
            return Task.FromResult(args.Length == 0 ? 2 : 0);
        }
        if (!Benchmarks.TryGetValue(args[0], out var bench))
        {
            throw new CommandLineException($"unknown benchmark '{args[0]}' (try reviewctl bench --help)");
        }
        return bench.Run(args[1..]);
    }
}
