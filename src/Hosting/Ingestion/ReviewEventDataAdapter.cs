using Azure.Messaging.EventHubs;
using Orleans.Providers.Streams.Common;
using Orleans.Serialization;
using Orleans.Streaming.EventHubs;
using Orleans.Streams;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Hosting.Ingestion;

/// <summary>
/// Reads producers' own events (<see cref="Contracts.Reviews.ReviewEventBody"/>: JSON, JSON lines, TSV), not the
/// Orleans-serialised batches Orleans' default adapter expects. Every event of an Event Hubs partition goes to the
/// events stream keyed by that partition, whose ingest grain parses, validates and routes its reviews.
/// </summary>
public sealed class ReviewEventDataAdapter(Serializer serializer, string source) : EventHubDataAdapter(serializer)
{
    public override StreamPosition GetStreamPosition(string partition, EventData queueMessage) =>
        new(StreamId.Create(StreamNames.Events, partition), new EventHubSequenceTokenV2(queueMessage.OffsetString, queueMessage.SequenceNumber, 0));

    // The base reads an Orleans property a foreign producer never sets (and casts whatever a producer put there).
    public override StreamId GetStreamIdentity(EventData queueMessage) => StreamId.Create(StreamNames.Events, queueMessage.PartitionKey ?? "");

    protected override IBatchContainer GetBatchContainer(EventHubMessage eventHubMessage) =>
        new RawEventBatch(eventHubMessage.StreamId, new EventHubSequenceTokenV2(eventHubMessage.Offset, eventHubMessage.SequenceNumber, 0),
            new RawReviewEvent
            {
                Source = source,
                Partition = eventHubMessage.StreamId.GetKeyAsString(),
                Offset = eventHubMessage.Offset,
                SequenceNumber = eventHubMessage.SequenceNumber,
                EnqueuedTimeMs = new DateTimeOffset(DateTime.SpecifyKind(eventHubMessage.EnqueueTimeUtc, DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
                Body = eventHubMessage.Payload,
            });

    public override EventData ToQueueMessage<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext) =>
        throw new NotSupportedException("the review events provider only reads the producers' events; publish reviews through the gateway");
}
