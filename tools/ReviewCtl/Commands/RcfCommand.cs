using ReviewOrleans.Analytics.Forest;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl rcf</c>: Random Cut Forest scores for CSV points on stdin (or a file), one line per point, scored
/// before each point is added, as KDA's <c>RANDOM_CUT_FOREST</c> and the AWS Java library do.
/// </summary>
internal static class RcfCommand
{
    public const string Usage = """
        usage: reviewctl rcf [FILE] [--trees N] [--sample-size N] [--time-decay LAMBDA] [--shingle-size N]
                             [--output-after N] [--seed N] [--threads N] [--attribution] [--json]
          Reads comma-separated points (one per line, same column count on every line) from FILE or stdin and
          prints one anomaly score per line. --attribution adds, per column, the attribution and its direction
          (score,a0,HIGH,a1,LOW,...). --time-decay is the decay rate lambda (default 1e-5 = 1/100000 records).
          --threads (default: all processors) scores groups of trees in parallel; output is identical for any N.
        """;

    public static Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args, "attribution");
        if (cl.Flag("help"))
        {
            Console.WriteLine(Usage);
            return Task.FromResult(0);
        }
        var defaults = new RandomCutForestOptions();
        var outputAfter = cl.Int("output-after", -1);
        var options = new RandomCutForestOptions
        {
            NumberOfTrees = cl.Int("trees", defaults.NumberOfTrees),
            SampleSize = cl.Int("sample-size", defaults.SampleSize),
            TimeDecay = cl.Double("time-decay", defaults.TimeDecay),
            ShingleSize = cl.Int("shingle-size", defaults.ShingleSize),
            OutputAfter = outputAfter < 0 ? null : outputAfter,
            Seed = cl.Long("seed", defaults.Seed),
        };
        var threads = cl.Int("threads", Environment.ProcessorCount);
        if (threads < 1)
        {
            throw new CommandLineException("--threads must be at least 1");
        }
        var scorer = new CsvForestScorer { Options = options, Attribution = cl.Flag("attribution"), Json = cl.Json, Threads = threads };
        cl.RejectUnknownOptions();
        if (cl.Positionals.Count > 1)
        {
            throw new CommandLineException("at most one input file");
        }
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CommandLineException(ex.Message);
        }

        try
        {
            using var input = cl.Positionals.Count == 1 ? File.OpenRead(cl.Positionals[0]) : Console.OpenStandardInput();
            using var output = Console.OpenStandardOutput();
            scorer.Run(input, output);
            return Task.FromResult(0);
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"reviewctl rcf: {ex.Message}");
            return Task.FromResult(1);
        }
    }
}
