using Orleans.Streams;
using ReviewOrleans.Contracts.Grains;

namespace ReviewOrleans.Hosting.Ingestion;

/// <summary>
/// One producer's event as the events stream delivers it: the event itself, not an Orleans-serialised batch, so that
/// whatever a producer wrote reaches the ingest grain as it was written.
/// </summary>
[GenerateSerializer, Alias("raw-event-batch.v1")]
public sealed class RawEventBatch(StreamId streamId, StreamSequenceToken sequenceToken, RawReviewEvent raw) : IBatchContainer
{
    [Id(0)] public StreamId StreamId { get; } = streamId;

    [Id(1)] public StreamSequenceToken SequenceToken { get; } = sequenceToken;

    [Id(2)] public RawReviewEvent Event { get; } = raw;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Event is T item ? [Tuple.Create(item, SequenceToken)] : [];

    public bool ImportRequestContext() => false;
}
