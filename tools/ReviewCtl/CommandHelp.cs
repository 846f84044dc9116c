namespace ReviewOrleans.ReviewCtl;

/// <summary>
/// The usage of every command and subcommand, answered to <c>--help</c> (or <c>-h</c>) wherever it appears, so that a
/// command never has to be run to learn its options.
/// </summary>
internal static class CommandHelp
{
    private const string Gateway = """

          --gateway URL   the gateway (default http://127.0.0.1:5181, or $REVIEWORLEANS_GATEWAY)
          --api-key KEY   the gateway's API key, when it has Gateway:ApiKeys (default $REVIEWORLEANS_API_KEY)
          --ca-cert FILE  PEM certificates an https:// gateway's certificate must chain to (default $REVIEWORLEANS_CA_CERT)
          --json          print the response as JSON (proto field names)
        """;

    private static readonly Dictionary<string, string> Usages = new(StringComparer.Ordinal)
    {
        ["version"] = "usage: reviewctl version\n\nPrints the tool's version.",
        ["send"] = "usage: reviewctl send FILE|- [--batch N] [--batch-bytes N] [--reasons N]" + Gateway + """

          FILE            JSONL (review schema), Amazon Customer Reviews TSV with its header, or reference TSV; - reads stdin
          --batch N       records per PutReviews call (500)
          --batch-bytes N encoded bytes per call (4194304, a quarter of the gateway's Gateway:MaxRequestBytes)
          --reasons N     distinct failure reasons to print (10)
        Exit code 3 when some records were refused.
        """,
        ["generate"] = "usage: reviewctl generate [--count N] [--seed N] [--inject KIND[:N],...] [--send [--rate R] [--batch N]]" + Gateway + """

          --count N       reviews to generate (1000)
          --seed N        generator seed (7); the same seed gives the same reviews and ids
          --inject ...    burst[:N], malformed[:N], flood[:N], duplicates[:N]
          --send          send to the gateway instead of printing JSONL
          --rate R        reviews per second when sending (0: as fast as possible)
          --batch N       records per call when sending (500)
        """,
        ["categories"] = "usage: reviewctl categories" + Gateway,
        ["category"] = "usage: reviewctl category NAME [--last N]" + Gateway + "\n  --last N        closed windows to show (12); NAME All covers every review",
        ["counts"] = "usage: reviewctl counts [--last N]" + Gateway + "\n  --last N        windows of distinct counts to show (12)",
        ["anomaly"] = "usage: reviewctl anomaly [--alerts N]" + Gateway + "\n  --alerts N      recent alerts to show (10)",
        ["priority"] = "usage: reviewctl priority [--category NAME] [--limit N]" + Gateway + "\n  --category NAME one category's queue (default: all)\n  --limit N       reviews to show (20)",
        ["ack"] = "usage: reviewctl ack REVIEW_ID [--category NAME]" + Gateway + "\n  --category NAME the queue it is in (default: found by id)",
        ["deadletters"] = "usage: reviewctl deadletters [--limit N]" + Gateway + "\n  --limit N       newest records to show (20)",
        ["alerts"] = Commands.AlertCommands.Usage + Gateway,
        ["alerts rules"] = Commands.AlertCommands.Usage + Gateway,
        ["deliveries"] = "usage: reviewctl deliveries" + Gateway + "\n\nPer silo hosting an anomaly shard and per destination: records delivered and dead-lettered, failed writes, retries, what is buffered, the oldest buffered record's age and the last batch's ingest-to-delivered lag.",
        ["replay"] = Commands.ReplayCommand.Usage + Gateway + """

          DIR                 a folder whose files (.jsonl, .json, .tsv) or sub-folders of them are partitions, named after them
          --rate N            reviews (lines) per second (0: as fast as the gateway takes them)
          --lines-per-event N lines of a file per event (100); a TSV file's header heads each of its events
          --events-per-call N events of each partition per message of the stream (50)
        Each review is validated as Event Hubs events are; refused ones are dead-lettered with their file, line and
        offset (reviewctl deadletters). Replaying the same files again is recognised: nothing counts twice.
        Exit code 3 when some reviews were refused.
        """,
        ["query"] = Commands.DeliveryCommands.QueryUsage + Gateway,
        ["query scored"] = Commands.DeliveryCommands.QueryUsage + Gateway + """

          --category NAME one category (default: all)
          --stars N       the customer's rating, 1..5
          --predicted N   the model's predicted stars, 1..5
          --since T       ingested since: a duration before now (30m, 12h, 2d, 1w) or a time (2026-12-01T08:00Z); default 1d
          --until T       ingested before, the same forms
          --limit N       rows to show (100, at most 10000)
        Reads the scored_reviews table through the gateway (Delivery:PostgreSQL), newest first.
        """,
        ["watch"] = "usage: reviewctl watch metrics|alerts [--category NAME] [--max N]" + Gateway + "\n  --category NAME only this category's windows (metrics) or alerts and detections (alerts)\n  --max N         stop after N items",
        ["cluster"] = "usage: reviewctl cluster" + Gateway + "\n\nThe silos of the membership table (status, address, uptime) and the silo hosting each partition and anomaly shard.",
        ["db"] = Commands.DbCommand.Usage,
        ["db init"] = "usage: reviewctl db init [--connection CS]\n\nApplies each db/postgresql/ script newer than the database's schema_version, in one transaction.\n  --connection CS   an Npgsql connection string (default $REVIEWORLEANS_POSTGRES)",
        ["db status"] = "usage: reviewctl db status [--connection CS]\n\nPrints the database's schema version and this build's; exit code 1 when they differ.\n  --connection CS   an Npgsql connection string (default $REVIEWORLEANS_POSTGRES)",
        ["db forget-settings"] = "usage: reviewctl db forget-settings --service-id ID [--connection CS]\n\nForgets the settings a service recorded; stop every silo and gateway of it first.\n  --connection CS   an Npgsql connection string (default $REVIEWORLEANS_POSTGRES)",
        ["model"] = Commands.ModelCommand.Usage,
        ["model train"] = Commands.ModelCommand.Usage,
        ["model eval"] = Commands.ModelCommand.Usage,
        ["bench delivery"] = Commands.DeliveryBenchCommand.Usage,
        ["bench"] = "usage: reviewctl bench rcf|hll|sentiment|delivery [options]   (reviewctl bench NAME --help for each)",
        ["bench rcf"] = "usage: reviewctl bench rcf [--trees N] [--sample-size N] [--points N] [--repeats N] [--csv FILE] [--no-process]\n\nRandom Cut Forest throughput: in-process d=1 and d=4, update only, batch API, and the whole process on a CSV.",
        ["bench hll"] = "usage: reviewctl bench hll [--trials N] [--ids N] [--seed N]\n\nDistinct counter: RMS error at 1e5 and 1e6 over seeded trials, state size, updates/s.",
        ["bench sentiment"] = "usage: reviewctl bench sentiment [--model PATH] [--seconds S] [--no-bert] [--bert-layers N] [--bert-seconds S]\n\nSentiment scoring: reviews/s, p50/p99 at batch 1/32/256, default model vs a DistilBERT-sized one.",
    };

    /// <summary>The usage for <paramref name="args"/> when they ask for help, else null.</summary>
    public static string? For(string[] args)
    {
        if (args.Length == 0 || !args.Skip(1).Any(a => a is "--help" or "-h"))
        {
            return null;
        }
        if (args.Length > 1 && Usages.TryGetValue($"{args[0]} {args[1]}", out var sub))
        {
            return sub;
        }
        return Usages.GetValueOrDefault(args[0]);
    }

    /// <summary>Commands whose usage is listed here, for a test that every command answers --help.</summary>
    public static IEnumerable<string> Covered => Usages.Keys;
}
