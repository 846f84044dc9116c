using System.Text;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>
/// The review schema's rules. review_id and product_category: required, 1–64 characters; review_body: required,
/// 1 byte to 64 KiB of UTF-8; star_rating, when present, 1–5; vote counts not negative.
/// </summary>
public static class ReviewValidator
{
    public const int MaxIdLength = 64;
    public const int MaxCategoryLength = 64;
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Returns the first rule the review breaks, or null when it is valid.</summary>
    public static ReviewRejection? Validate(ReviewMessage review)
    {
        ArgumentNullException.ThrowIfNull(review);
        return RequiredText("review_id", review.ReviewId, MaxIdLength)
            ?? RequiredText("product_category", review.ProductCategory, MaxCategoryLength)
            ?? Body(review.ReviewBody)
            ?? Range("star_rating", review.StarRating, 1, 5)
            ?? Range("helpful_votes", review.HelpfulVotes, 0, int.MaxValue)
            ?? Range("total_votes", review.TotalVotes, 0, int.MaxValue);
    }

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
        return null;
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
        return null;
    }

    private static ReviewRejection? Range(string field, int? value, int min, int max) =>
        value is { } v && (v < min || v > max)
            ? new ReviewRejection(field, "out_of_range", $"{field} is {v}; it must be between {min} and {max}")
            : null;
}
