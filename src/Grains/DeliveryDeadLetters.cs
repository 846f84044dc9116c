using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Delivery;

namespace ReviewOrleans.Grains;

/// <summary>
/// Scored reviews a destination could not take, reported to the platform's dead-letter store (<c>reviewctl
/// deadletters</c>): one record per failed batch, naming the destination, the reason, the count and the errors file
/// that holds the records themselves.
/// </summary>
public sealed class DeliveryDeadLetters(IGrainFactory grains, TimeProvider clock) : IDeliveryDeadLetters
{
    public async Task ReportAsync(string destination, string rule, IReadOnlyList<ScoredReview> records, string reason, string errorsFile)
    {
        var first = records[0].ReviewId;
        var record = new DeadLetterRecord
        {
            TimeMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            ReviewId = records.Count == 1 ? first : $"{first} and {records.Count - 1:N0} more",
            Field = "delivery",
            Rule = rule,
            Message = $"{records.Count:N0} scored reviews not delivered to {destination}: {reason}",
            Stage = "delivery",
            Raw = DeadLetterRecord.ClipRaw(errorsFile),
        };
        await grains.GetGrain<IDeadLetterGrain>(0).Add([record]);
    }
}
