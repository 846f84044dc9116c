using ReviewOrleans.ReviewCtl;
using ReviewOrleans.ReviewCtl.Commands;

// One table of top-level commands; each command group lives in its own file under Commands/ and receives
// the arguments after its name.
var commands = new SortedDictionary<string, (string Summary, Func<string[], Task<int>> Run)>(StringComparer.Ordinal)
{
    ["version"] = ("print the tool's version", VersionCommand.RunAsync),
    ["send"] = ("send reviews from a JSONL or TSV file (or - for stdin) to a gateway", SendCommand.RunAsync),
    ["generate"] = ("synthetic reviews as JSONL, or --send them at --rate, with --inject anomalies", GenerateCommand.RunAsync),
    ["categories"] = ("list the categories seen", QueryCommands.Categories),
    ["category"] = ("a category's recent windows: category NAME [--last N]", QueryCommands.Category),
    ["counts"] = ("totals, per category and source, distinct counts per window", QueryCommands.Counts),
    ["anomaly"] = ("current anomaly grade and recent detections with attribution", QueryCommands.Anomaly),
    ["alerts"] = ("the alert rules' alerts (firing, recent) with their webhook deliveries; alerts rules [set FILE]", AlertCommands.RunAsync),
    ["priority"] = ("reviews predicted at 2 stars or fewer, awaiting attention", QueryCommands.Priority),
    ["ack"] = ("acknowledge a priority review: ack REVIEW_ID [--category NAME]", QueryCommands.Acknowledge),
    ["deadletters"] = ("records refused, with their reasons", QueryCommands.DeadLetters),
    ["deliveries"] = ("the delivery of scored reviews per silo and destination: delivered, failures, buffered, lag", DeliveryCommands.Deliveries),
    ["replay"] = ("replay archived review event files (one per partition) through the Event Hubs ingest path: replay DIR [--rate N]", ReplayCommand.RunAsync),
    ["query"] = ("scored reviews as delivered to PostgreSQL: query scored [--category NAME] [--stars N] [--since 2d]", DeliveryCommands.Query),
    ["watch"] = ("follow the live streams: watch metrics|alerts", QueryCommands.Watch),
    ["model"] = ("train and evaluate the sentiment model (model train | model eval FILE... [--builtin])", ModelCommand.RunAsync),
    ["rcf"] = ("Random Cut Forest anomaly scores for CSV points on stdin", RcfCommand.RunAsync),
    ["hll"] = ("distinct count of the lines on stdin (exact to 10,000, then UltraLogLog)", HllCommand.RunAsync),
    ["cluster"] = ("the silos (status, address, uptime) and the silo of each partition and anomaly shard", QueryCommands.Cluster),
    ["db"] = ("the cluster's PostgreSQL schema: db init | status | forget-settings", DbCommand.RunAsync),
    ["bench"] = ("benchmarks that print figures (bench rcf | bench hll)", BenchCommand.RunAsync),
};

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("reviewctl: the ReviewOrleans command-line tool\n\nCommands:");
    foreach (var (name, (summary, _)) in commands)
    {
        Console.WriteLine($"  {name,-14} {summary}");
    }
    return args.Length == 0 ? 2 : 0;
}

// `reviewctl COMMAND [SUBCOMMAND] --help` answers with the usage, before any option is parsed. Commands that parse
// --help themselves (model, rcf, hll) are not listed there and keep their own text.
if (CommandHelp.For(args) is { } usage)
{
    Console.WriteLine(usage);
    return 0;
}

if (!commands.TryGetValue(args[0], out var command))
{
    Console.Error.WriteLine($"reviewctl: unknown command '{args[0]}' (try reviewctl --help)");
    return 2;
}

try
{
    return await command.Run(args[1..]);
}
catch (CommandLineException ex)
{
    Console.Error.WriteLine($"reviewctl {args[0]}: {ex.Message}");
    return 2;
}
