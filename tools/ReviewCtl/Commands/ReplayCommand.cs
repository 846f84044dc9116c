using System.Diagnostics;
using Google.Protobuf;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl replay DIR</c>: archived review events (a folder of partition files, as the file-backed Event Hubs
/// source reads them) through the gateway's <c>PutEvents</c>, which ingests them as the Event Hubs path does. For
/// backfills and load tests; <c>--rate</c> paces it in reviews (lines) per second.
/// </summary>
internal static class ReplayCommand
{
    public const string Usage = "usage: reviewctl replay DIR [--rate N] [--lines-per-event N] [--events-per-call N]";

    public static Task<int> RunAsync(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var rate = cl.Double("rate", 0);
        var linesPerEvent = cl.Int("lines-per-event", ReviewEventFiles.DefaultLinesPerEvent);
        var eventsPerCall = cl.Int("events-per-call", 50);
        cl.RejectUnknownOptions();
        if (cl.Positionals.Count != 1)
        {
            throw new CommandLineException(Usage);
        }
        if (rate < 0 || linesPerEvent < 1 || eventsPerCall < 1)
        {
            throw new CommandLineException("--rate must be at least 0 (0: as fast as the gateway takes them), --lines-per-event and --events-per-call at least 1");
        }
        var files = new ReviewEventFiles(cl.Positionals[0], linesPerEvent);
        IReadOnlyList<string> partitions;
        try
        {
            partitions = files.Partitions();
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new CommandLineException(ex.Message);
        }
        if (partitions.Count == 0)
        {
            throw new CommandLineException($"no partition files (.jsonl, .json, .tsv, or folders of them) in {Path.GetFullPath(cl.Positionals[0])}");
        }

        // The partitions in turn, a call's worth of events from each, so that all of them move along together.
        var readers = partitions.Select(p => files.Read(p).GetEnumerator()).ToList();
        var clock = Stopwatch.StartNew();
        long lines = 0;
        using var call = gateway.Client.PutEvents();
        while (readers.Count > 0)
        {
            var request = new PutEventsRequest();
            for (var r = readers.Count - 1; r >= 0; r--)
            {
                for (var i = 0; i < eventsPerCall; i++)
                {
                    if (!readers[r].MoveNext())
                    {
                        readers[r].Dispose();
                        readers.RemoveAt(r);
                        break;
                    }
                    var e = readers[r].Current;
                    request.Events.Add(new ReviewEvent { Partition = e.Partition, Offset = e.Offset, SequenceNumber = e.SequenceNumber, Body = ByteString.CopyFrom(e.Body) });
                    lines += e.NextLine - e.SequenceNumber;
                }
            }
            if (request.Events.Count > 0)
            {
                await call.RequestStream.WriteAsync(request);
            }
            if (rate > 0 && TimeSpan.FromSeconds(lines / rate) - clock.Elapsed is { Ticks: > 0 } ahead)
            {
                await Task.Delay(ahead);
            }
        }
        await call.RequestStream.CompleteAsync();
        var response = await call;
        var seconds = clock.Elapsed.TotalSeconds;
        gateway.Print(response, () => Console.WriteLine(
            $"replayed {response.Events:N0} events from {partitions.Count} partition(s) in {seconds:F1} s: {response.AcceptedReviews:N0} reviews accepted " +
            $"({response.AcceptedReviews / seconds:N0}/s), {response.RefusedReviews:N0} refused (reviewctl deadletters)"));
        return response.RefusedReviews > 0 ? 3 : 0;
    });
}
