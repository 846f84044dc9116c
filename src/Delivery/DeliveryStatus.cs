namespace ReviewOrleans.Delivery;

/// <summary>One destination's figures since its silo started (<c>reviewctl deliveries</c>).</summary>
public sealed record DeliveryStatus(
    string Destination,
    long Delivered,
    long DeadLettered,
    long Failures,
    long Retries,
    long BufferedRecords,
    long BufferedBytes,
    long OldestBufferedAgeMs,
    long LastLagMs,
    long LastDeliveredAtMs,
    string LastError,
    long LastErrorAtMs);

/// <summary>Where records a destination could not take are reported, besides the errors store (the platform's dead letters).</summary>
public interface IDeliveryDeadLetters
{
    /// <param name="rule">"&lt;destination&gt;.undeliverable" (failed until Delivery:DeadLetterAfter) or "&lt;destination&gt;.refused".</param>
    Task ReportAsync(string destination, string rule, IReadOnlyList<ScoredReview> records, string reason, string errorsFile);
}
