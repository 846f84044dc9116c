namespace ReviewOrleans.Contracts.Reviews;

/// <summary>Why a record was refused: the field, the rule it broke, and a message for people.</summary>
[GenerateSerializer, Alias("review-rejection.v1")]
public sealed record ReviewRejection(
    [property: Id(0)] string Field,
    [property: Id(1)] string Rule,
    [property: Id(2)] string Message)
{
    /// <summary>A stable machine-readable code, e.g. <c>review_body.too_long</c>.</summary>
    public string Code => $"{Field}.{Rule}";

    public override string ToString() => $"{Field}: {Message}";
}
