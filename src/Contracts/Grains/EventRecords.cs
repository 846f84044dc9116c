namespace ReviewOrleans.Contracts.Grains;

/// <summary>
/// One event as a producer wrote it (Event Hubs, or a file replayed by <c>reviewctl replay</c>): its body holds one
/// or more reviews (<see cref="Reviews.ReviewEventBody"/>), and where it came from is kept for dead letters and for
/// recognising it when it is delivered again.
/// </summary>
[GenerateSerializer, Alias("raw-review-event.v1")]
public sealed class RawReviewEvent
{
    /// <summary>"eventhub:&lt;hub&gt;" or "replay".</summary>
    [Id(0)] public string Source { get; set; } = "";
    [Id(1)] public string Partition { get; set; } = "";
    [Id(2)] public string Offset { get; set; } = "";
    [Id(3)] public long SequenceNumber { get; set; }
    [Id(4)] public long EnqueuedTimeMs { get; set; }
    [Id(5)] public byte[] Body { get; set; } = [];
}

/// <summary>What the reviews of some events became.</summary>
[GenerateSerializer, Alias("event-ingest-result.v1")]
public sealed record EventIngestResult([property: Id(0)] int Accepted, [property: Id(1)] int Refused, [property: Id(2)] int SkippedEvents);

/// <summary>
/// Turns producers' events into reviews on the "reviews" stream, as the gateway does with calls: parse, validate,
/// route by review_id; refused reviews go to the dead letters with the event's partition, offset and sequence number.
/// Keyed by "&lt;source&gt;/&lt;partition&gt;": one activation per source partition keeps its events in order.
/// </summary>
public interface IEventIngestGrain : IGrainWithStringKey
{
    Task<EventIngestResult> Ingest(List<RawReviewEvent> events);
}

/// <summary>The keys of <see cref="IEventIngestGrain"/>: an Event Hubs partition id as it is, a replayed one prefixed.</summary>
public static class EventIngestKeys
{
    public const string ReplayPrefix = "replay/";

    public static string Replay(string partition) => ReplayPrefix + partition;

    public static bool IsReplay(string key) => key.StartsWith(ReplayPrefix, StringComparison.Ordinal);
}
