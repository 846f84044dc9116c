using System.Buffers;
using System.Text;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>
/// The review schema's rules. review_id and product_category: required, 1–64 characters, no control characters (they
/// name grains, rows and dashboard entries); review_body: required, 1 byte to 64 KiB of UTF-8; source, when present,
/// at most 64 characters and no control characters; no text field may hold U+0000, which PostgreSQL text cannot
/// store; star_rating, when present, 1–5; vote counts not negative; event_time, when present, at most an hour ahead
/// of the ingest time.
/// </summary>
public static class ReviewValidator
{
    public const int MaxIdLength = 64;
    public const int MaxCategoryLength = 64;
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxSourceLength = 64;

    /// <summary>
    /// How far event_time may run ahead of the gateway's clock. Generous for producers' clock skew, but it stops a
    /// unit mistake (microseconds sent as milliseconds) from moving the event-time watermark years ahead, which
    /// would make every later review late.
    /// </summary>
    public const long MaxEventTimeAheadMs = 60 * 60 * 1000;

    /// <summary>Returns the first rule the review breaks, or null when it is valid.</summary>
    /// <param name="ingestedAtMs">
    /// The gateway's clock when the review arrived; defaults to the review's <see cref="ReviewMessage.IngestedAtMs"/>.
    /// The event_time bound is checked only when one of them is set.
    /// </param>
    public static ReviewRejection? Validate(ReviewMessage review, long? ingestedAtMs = null)
    {
        ArgumentNullException.ThrowIfNull(review);
        return RequiredText("review_id", review.ReviewId, MaxIdLength)
            ?? RequiredText("product_category", review.ProductCategory, MaxCategoryLength)
            ?? Body(review.ReviewBody)
            ?? Source(review.Source)
            ?? NoNul("marketplace", review.Marketplace)
            ?? NoNul("customer_id", review.CustomerId)
            ?? NoNul("product_id", review.ProductId)
            ?? NoNul("product_parent", review.ProductParent)
            ?? NoNul("product_title", review.ProductTitle)
            ?? NoNul("review_headline", review.ReviewHeadline)
            ?? NoNul("review_date", review.ReviewDate)
            ?? Range("star_rating", review.StarRating, 1, 5)
            ?? Range("helpful_votes", review.HelpfulVotes, 0, int.MaxValue)
            ?? Range("total_votes", review.TotalVotes, 0, int.MaxValue)
            ?? EventTime(review.EventTimeMs, ingestedAtMs ?? review.IngestedAtMs);
    }

    /// <summary>Unix milliseconds of 0001-01-01 and 9999-12-31T23:59:59.999Z, the range of a timestamp.</summary>
    private const long MinEventTimeMs = -62_135_596_800_000, MaxEventTimeMs = 253_402_300_799_999;

    private static ReviewRejection? EventTime(long? eventTimeMs, long ingestedAtMs) =>
        eventTimeMs is { } t && (t < MinEventTimeMs || t > MaxEventTimeMs)
            ? new ReviewRejection("event_time", "out_of_range", $"event_time is {t}; it must lie between the years 1 and 9999 in Unix milliseconds")
        : eventTimeMs is { } e && ingestedAtMs > 0 && e > ingestedAtMs && e - ingestedAtMs > MaxEventTimeAheadMs
            ? new ReviewRejection("event_time", "in_future",
                $"event_time {FormatTime(e)} is {(e - ingestedAtMs) / 60_000.0:F0} minutes ahead of the ingest time {FormatTime(ingestedAtMs)}; at most 60 are allowed (milliseconds expected)")
            : null;

    private static string FormatTime(long ms) =>
        ms is >= MinEventTimeMs and <= MaxEventTimeMs
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("O", System.Globalization.CultureInfo.InvariantCulture)
            : ms.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ReviewRejection? RequiredText(string field, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return new ReviewRejection(field, "required", $"{field} is required and must not be empty");
        }
        if (value.Length > maxLength)
        {
            return new ReviewRejection(field, "too_long", $"{field} has {value.Length} characters; at most {maxLength} are allowed");
        }
        if (string.IsNullOrWhiteSpace(value))
        {
            return new ReviewRejection(field, "blank", $"{field} must not be only whitespace");
        }
        return ControlCharacter(field, value);
    }

    private static readonly SearchValues<char> ControlCharacters =
        SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(c => (char)c), '\u007F']);

    /// <summary>U+0000–U+001F and U+007F: invisible in lists and logs, and U+0000 cannot be stored by PostgreSQL.</summary>
    private static ReviewRejection? ControlCharacter(string field, string value)
    {
        var at = value.AsSpan().IndexOfAny(ControlCharacters);
        return at < 0 ? null : new ReviewRejection(field, "control_character",
            $"{field} holds the control character U+{(int)value[at]:X4} at position {at}; control characters (U+0000–U+001F, U+007F) are not allowed");
    }

    private static ReviewRejection? NoNul(string field, string? value)
    {
        var at = value?.IndexOf('\0') ?? -1;
        return at < 0 ? null : new ReviewRejection(field, "nul_character",
            $"{field} holds U+0000 at position {at}, which PostgreSQL text cannot store");
    }

    private static ReviewRejection? Source(string? source)
    {
        if (source is null)
        {
            return null;
        }
        if (source.Length > MaxSourceLength)
        {
            return new ReviewRejection("source", "too_long", $"source has {source.Length} characters; at most {MaxSourceLength} are allowed");
        }
        return ControlCharacter("source", source);
    }

    private static ReviewRejection? Body(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return new ReviewRejection("review_body", "required", "review_body is required and must not be empty");
        }
        // Cheap bound first: a UTF-16 string of n chars has at most 3n UTF-8 bytes.
        if (body.Length * 3 > MaxBodyBytes)
        {
            var bytes = Encoding.UTF8.GetByteCount(body);
            if (bytes > MaxBodyBytes)
            {
                return new ReviewRejection("review_body", "too_long", $"review_body has {bytes} bytes of UTF-8; at most {MaxBodyBytes} (64 KiB) are allowed");
            }
        }
        return NoNul("review_body", body);
    }

    private static ReviewRejection? Range(string field, int? value, int min, int max) =>
        value is { } v && (v < min || v > max)
            ? new ReviewRejection(field, "out_of_range", $"{field} is {v}; it must be between {min} and {max}")
            : null;
}
