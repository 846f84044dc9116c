using System.Globalization;
using System.Text;
using System.Text.Json;
using ReviewOrleans.Analytics;
using ReviewOrleans.Analytics.Counting;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl hll</c>: distinct count of the lines of stdin (or a file), exact up to the exact limit and
/// estimated with the 16 KiB UltraLogLog sketch beyond, like KDA's <c>COUNT_DISTINCT_ITEMS_TUMBLING</c>.
/// </summary>
internal static class HllCommand
{
    public const string Usage = """
        usage: reviewctl hll [FILE] [--exact-limit N] [--json]
          Reads one item per line (UTF-8; a trailing CR is dropped; empty lines are skipped) from FILE or stdin and
          prints the number of distinct items. --json prints {"count":..,"estimate":..,"exact":..,"lines":..}.
        """;

    public static Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args);
        if (cl.Flag("help"))
        {
            Console.WriteLine(Usage);
            return Task.FromResult(0);
        }
        var exactLimit = cl.Int("exact-limit", DistinctCounter.DefaultExactLimit);
        var json = cl.Json;
        cl.RejectUnknownOptions();
        if (cl.Positionals.Count > 1)
        {
            throw new CommandLineException("at most one input file");
        }
        if (exactLimit < 0 || exactLimit > DistinctCounter.MaxExactLimit)
        {
            throw new CommandLineException($"--exact-limit must be between 0 and {DistinctCounter.MaxExactLimit}");
        }

        var counter = new DistinctCounter(exactLimit);
        long lines;
        try
        {
            using var input = cl.Positionals.Count == 1 ? File.OpenRead(cl.Positionals[0]) : Console.OpenStandardInput();
            lines = CountLines(input, counter);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or DecoderFallbackException)
        {
            Console.Error.WriteLine($"reviewctl hll: {ex.Message}");
            return Task.FromResult(1);
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { count = counter.Count, estimate = counter.Estimate(), exact = counter.IsExact, lines }));
        }
        else
        {
            Console.WriteLine(counter.Count.ToString(CultureInfo.InvariantCulture));
        }
        return Task.FromResult(0);
    }

    /// <summary>Adds each non-empty line's text to the counter; returns the number of items added.</summary>
    private static long CountLines(Stream input, DistinctCounter counter)
    {
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var reader = new ByteLineReader(input);
        var chars = new char[1024];
        long items = 0;
        while (reader.TryReadLine(out var line))
        {
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }
            if (line.IsEmpty)
            {
                continue;
            }
            if (chars.Length < line.Length)
            {
                chars = new char[line.Length * 2];
            }
            var length = utf8.GetChars(line, chars);
            counter.Add(chars.AsSpan(0, length));
            items++;
        }
        return items;
    }
}
