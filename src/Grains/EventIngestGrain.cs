using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Contracts.Telemetry;

namespace ReviewOrleans.Grains;

/// <summary>
/// Producers' events into the pipeline. Keyed by a source partition: an Event Hubs partition id (the implicit
/// subscriber of the events stream, <see cref="StreamNames.Events"/>) or "replay/&lt;partition&gt;" (called by the
/// gateway for <c>reviewctl replay</c>). Each review of an event is parsed and validated on its own; refused ones are
/// dead-lettered with the event's partition, offset, sequence number and line. The accepted ones are routed by
/// review_id, as the gateway routes them, in batches whose ids derive from the event, so that an event read again
/// after a restart (Event Hubs resumes at its checkpoint) is recognised by the partitions and counted once.
/// </summary>
[ImplicitStreamSubscription(StreamNames.Events)]
[GrainType("event-ingest")]
public sealed partial class EventIngestGrain(
    IOptions<PipelineOptions> options,
    TimeProvider clock) : Grain, IEventIngestGrain
{
    private readonly PipelineOptions _options = options.Value;
    private IAsyncStream<ReviewBatch>[] _streams = [];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var provider = this.GetStreamProvider(StreamNames.Provider);
        _streams = [.. Enumerable.Range(0, _options.Partitions).Select(p => provider.GetStream<ReviewBatch>(StreamId.Create(StreamNames.Reviews, p)))];
        var key = this.GetPrimaryKeyString();
        if (!EventIngestKeys.IsReplay(key))
        {
            var events = this.GetStreamProvider(StreamNames.EventsProvider).GetStream<RawReviewEvent>(StreamId.Create(StreamNames.Events, key));
            // In batches (up to StreamPullingAgentOptions.BatchContainerBatchSize events): per event, a review
            // partition would get a handful of reviews per batch, each logged on its own.
            await events.SubscribeAsync(items => Ingest([.. items.Select(i => i.Item)]));
        }
    }

    public async Task<EventIngestResult> Ingest(List<RawReviewEvent> events)
    {
        if (events.Count == 0)
        {
            return new EventIngestResult(0, 0, 0);
        }
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var byPartition = new List<ReviewMessage>?[_streams.Length];
        List<DeadLetterRecord>? deadLetters = null;
        int accepted = 0, skipped = 0;
        foreach (var e in events)
        {
            if (_options.EventsStartTimeMs is { } start && e.EnqueuedTimeMs < start)
            {
                skipped++; // enqueued before Ingest:EventHubs:StartPosition, on a hub read from its start
                continue;
            }
            foreach (var (line, parsed, raw) in ReviewEventBody.Parse(e.Body))
            {
                var rejection = parsed.Rejection ?? ReviewValidator.Validate(parsed.Review!, now);
                if (rejection is not null)
                {
                    ReviewTelemetry.RecordRefused(rejection.Code, Stage(e));
                    (deadLetters ??= []).Add(new DeadLetterRecord
                    {
                        TimeMs = now,
                        ReviewId = parsed.Review?.ReviewId ?? "",
                        Field = rejection.Field,
                        Rule = rejection.Rule,
                        Message = rejection.Message,
                        Stage = Stage(e),
                        Raw = DeadLetterRecord.ClipRaw($"{e.Source} partition {e.Partition} offset {e.Offset} sequence {e.SequenceNumber} line {line}: {raw}"),
                        // The same id when the event is read again: the store keeps one copy.
                        Id = DeadLetterId(e, line),
                    });
                    continue;
                }
                var review = parsed.Review!;
                review.IngestedAtMs = now;
                (byPartition[StreamNames.PartitionOf(review.ReviewId, _streams.Length)] ??= []).Add(review);
                accepted++;
            }
        }
        var publishes = new List<Task>();
        for (var p = 0; p < byPartition.Length; p++)
        {
            if (byPartition[p] is { } reviews)
            {
                publishes.Add(PublishAsync(p, reviews, events));
            }
        }
        // Any failure fails the call: the stream delivers the event again (or replay's client retries), and what
        // already went through is recognised by its batch and record ids.
        await Task.WhenAll(publishes);
        var refused = 0;
        if (deadLetters is not null)
        {
            // Counted as refused once each: an event read again (from a checkpoint) refuses the same lines again,
            // which the store recognises by their ids.
            refused = await GrainFactory.GetGrain<IDeadLetterGrain>(0).Add(deadLetters);
            if (refused > 0)
            {
                await GrainFactory.GetGrain<ICountingGrain>("global").Add(LogRange.Unsequenced, new CountDelta { Rejected = refused });
            }
        }
        return new EventIngestResult(accepted, deadLetters?.Count ?? 0, skipped);
    }

    private async Task PublishAsync(int partition, List<ReviewMessage> reviews, List<RawReviewEvent> events)
    {
        foreach (var (_, batch) in ReviewBatch.Split(reviews, chunk => BatchId(events, partition, chunk)))
        {
            await _streams[partition].OnNextAsync(batch);
        }
    }

    /// <summary>From the events (source, partition, sequence numbers, bodies), the target partition and the chunk: never 0.</summary>
    private static long BatchId(List<RawReviewEvent> events, int partition, int chunk)
    {
        var first = events[0];
        var last = events[^1];
        var hash = new XxHash3(seed: 0x6576656E74);
        hash.Append(Encoding.UTF8.GetBytes($"{first.Source}\n{first.Partition}\n"));
        Span<byte> numbers = stackalloc byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(numbers, first.SequenceNumber);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[8..], last.SequenceNumber);
        BinaryPrimitives.WriteInt32LittleEndian(numbers[16..], partition);
        BinaryPrimitives.WriteInt32LittleEndian(numbers[20..], chunk);
        hash.Append(numbers);
        // The bodies too: a file partition read again may give an event at the same line more lines than before
        // (appended since), whose batches must not be taken for the first reading's.
        foreach (var e in events)
        {
            hash.Append(e.Body);
        }
        var id = (long)hash.GetCurrentHashAsUInt64();
        return id == 0 ? 1 : id;
    }

    private static Guid DeadLetterId(RawReviewEvent e, int line)
    {
        var bytes = XxHash128.Hash(Encoding.UTF8.GetBytes($"{e.Source}\n{e.Partition}\n{e.SequenceNumber}\n{line}"));
        return new Guid(bytes);
    }

    private static string Stage(RawReviewEvent e) => e.Source.StartsWith("replay", StringComparison.Ordinal) ? "replay" : "eventhub";
}
