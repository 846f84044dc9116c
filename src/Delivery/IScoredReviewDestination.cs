namespace ReviewOrleans.Delivery;

/// <summary>
/// Where scored reviews go. <see cref="DeliverAsync"/> stores a whole batch or throws; a destination that can tell a
/// batch it refuses for good (the data, not the connection) throws <see cref="ScoredReviewRefusedException"/>, and the
/// caller then isolates the records at fault. A destination may receive a record again after a crash.
/// </summary>
public interface IScoredReviewDestination : IAsyncDisposable
{
    /// <summary>The destination's name in metrics, dead letters and <c>reviewctl deliveries</c>: "postgresql", "files".</summary>
    string Name { get; }

    Task DeliverAsync(IReadOnlyList<ScoredReview> records, CancellationToken cancellationToken);

    /// <summary>
    /// Called by the delivery's loop between writes, at least once a second: work due by time rather than by records,
    /// such as finishing a file that has grown old while nothing was written.
    /// </summary>
    void Tick()
    {
    }
}

/// <summary>The destination refuses the batch for what it holds: trying again will not help, splitting it may.</summary>
public sealed class ScoredReviewRefusedException(string message, Exception? inner = null) : Exception(message, inner);
