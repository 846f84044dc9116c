using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Grains;
using ReviewOrleans.Contracts.Reviews;
using ReviewOrleans.Contracts.Telemetry;

namespace ReviewOrleans.Gateway;

/// <summary>
/// Turns a batch of records into per-record results and stream items: parse, validate, stamp the ingestion time,
/// split by partition and publish one <see cref="ReviewBatch"/> per partition. Refused records go to the dead-letter
/// store with their reasons; a partition that cannot be published fails only its own records, retryably.
/// </summary>
public sealed partial class ReviewIngestor(
    IClusterClient cluster,
    IOptions<GatewayOptions> options,
    TimeProvider clock,
    ILogger<ReviewIngestor> logger)
{
    /// <summary>Kinesis' code for a record the client may retry.</summary>
    public const string RetryableErrorCode = "InternalFailure";

    private readonly int _partitions = options.Value.Partitions;
    private IAsyncStream<ReviewBatch>[]? _streams;

    /// <param name="invalidUtf8">Records whose text was not UTF-8 on the wire (<see cref="GatewayRequestFrames"/>): refused, since what parsing made of them is not what was sent.</param>
    public async Task<PutReviewsResponse> IngestAsync(IReadOnlyList<ReviewRecord> records, bool includeAccepted, IReadOnlyList<InvalidUtf8Field>? invalidUtf8 = null)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var results = new RecordResult[records.Count];
        var byPartition = new List<(int Index, ReviewMessage Review)>?[_partitions];
        List<DeadLetterRecord>? deadLetters = null;

        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var notUtf8 = NotUtf8(invalidUtf8, i);
            var parsed = notUtf8 is { } field ? ParsedReview.Fail(field.Field, "invalid_utf8",
                    $"holds bytes that are not UTF-8 (the first at byte {field.ByteOffset} of the field); send text as UTF-8")
                : record.PayloadCase switch
            {
                ReviewRecord.PayloadOneofCase.Review => ParsedReview.Ok(ReviewApi.ToMessage(record.Review)),
                ReviewRecord.PayloadOneofCase.Json => ReviewParser.FromJson(record.Json),
                ReviewRecord.PayloadOneofCase.ReferenceTsv => ReviewParser.FromReferenceTsv(record.ReferenceTsv),
                _ => ParsedReview.Fail("record", "empty", "the record has no payload (review, json or reference_tsv)"),
            };
            var rejection = parsed.Rejection ?? ReviewValidator.Validate(parsed.Review!, now);
            if (rejection is not null)
            {
                var reviewId = parsed.Review?.ReviewId
                    ?? (record.PayloadCase == ReviewRecord.PayloadOneofCase.Review ? record.Review.ReviewId : "");
                results[i] = new RecordResult { ReviewId = reviewId, ErrorCode = rejection.Code, ErrorMessage = rejection.ToString() };
                ReviewTelemetry.RecordRefused(rejection.Code, "gateway");
                (deadLetters ??= []).Add(new DeadLetterRecord
                {
                    TimeMs = now,
                    ReviewId = reviewId,
                    Field = rejection.Field,
                    Rule = rejection.Rule,
                    Message = rejection.Message,
                    Stage = "gateway",
                    Raw = DeadLetterRecord.ClipRaw(RawText(record)),
                });
                continue;
            }
            var review = parsed.Review!;
            review.IngestedAtMs = now;
            results[i] = new RecordResult { ReviewId = review.ReviewId };
            (byPartition[StreamNames.PartitionOf(review.ReviewId, _partitions)] ??= []).Add((i, review));
        }

        var streams = _streams ??= CreateStreams();
        var publishes = new List<Task>();
        for (var p = 0; p < _partitions; p++)
        {
            if (byPartition[p] is { } items)
            {
                publishes.Add(PublishAsync(streams[p], items, results));
            }
        }
        if (deadLetters is not null)
        {
            publishes.Add(StoreRejectionsAsync(deadLetters));
        }
        await Task.WhenAll(publishes);

        var response = new PutReviewsResponse();
        foreach (var result in results)
        {
            var failed = result.ErrorCode.Length > 0;
            response.FailedRecordCount += failed ? 1 : 0;
            // Kinesis answers every record in request order; the streaming call answers only the failures.
            if (failed || includeAccepted)
            {
                response.Records.Add(result);
            }
        }
        response.AcceptedRecordCount = results.Length - response.FailedRecordCount;
        return response;
    }

    private static InvalidUtf8Field? NotUtf8(IReadOnlyList<InvalidUtf8Field>? fields, int record)
    {
        if (fields is null)
        {
            return null;
        }
        foreach (var field in fields)
        {
            if (field.Record == record)
            {
                return field;
            }
        }
        return null;
    }

    /// <summary>
    /// Publishes one partition's reviews as batches of at most <see cref="ReviewBatch.MaxPayloadBytes"/>, in order.
    /// Should one fail, it and the batches after it are answered as retryable; those before it stay accepted.
    /// </summary>
    private async Task PublishAsync(IAsyncStream<ReviewBatch> stream, List<(int Index, ReviewMessage Review)> items, RecordResult[] results)
    {
        var reviews = items.ConvertAll(x => x.Review);
        using var activity = ReviewTelemetry.Source.StartActivity("publish reviews", System.Diagnostics.ActivityKind.Producer);
        activity?.SetTag("revieworleans.stream", stream.StreamId.ToString());
        activity?.SetTag("revieworleans.reviews", reviews.Count);
        var start = 0;
        try
        {
            foreach (var (first, batch) in ReviewBatch.Split(reviews))
            {
                await stream.OnNextAsync(batch);
                start = first + batch.Count;
            }
        }
        catch (Exception ex)
        {
            LogPublishFailed(ex, stream.StreamId.ToString(), reviews.Count - start);
            foreach (var (index, review) in items.Skip(start))
            {
                results[index] = new RecordResult
                {
                    ReviewId = review.ReviewId,
                    ErrorCode = RetryableErrorCode,
                    ErrorMessage = $"the review stream did not take the record ({ex.GetType().Name}); retry it",
                };
            }
        }
    }

    private async Task StoreRejectionsAsync(List<DeadLetterRecord> deadLetters)
    {
        try
        {
            await Task.WhenAll(
                cluster.GetGrain<IDeadLetterGrain>(0).Add(deadLetters),
                cluster.GetGrain<ICountingGrain>("global").Add(LogRange.Unsequenced, new CountDelta { Rejected = deadLetters.Count }));
        }
        catch (Exception ex)
        {
            // The client already has every reason in its response; the store is the audit copy.
            LogDeadLetterFailed(ex, deadLetters.Count);
        }
    }

    private IAsyncStream<ReviewBatch>[] CreateStreams()
    {
        var provider = cluster.GetStreamProvider(StreamNames.Provider);
        return Enumerable.Range(0, _partitions)
            .Select(p => provider.GetStream<ReviewBatch>(StreamId.Create(StreamNames.Reviews, p)))
            .ToArray();
    }

    private static string RawText(ReviewRecord record) => record.PayloadCase switch
    {
        ReviewRecord.PayloadOneofCase.Json => record.Json,
        ReviewRecord.PayloadOneofCase.ReferenceTsv => record.ReferenceTsv,
        ReviewRecord.PayloadOneofCase.Review => record.Review.ToString(),
        _ => "",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing {Count} reviews to {Stream} failed; they were answered as retryable failures")]
    private partial void LogPublishFailed(Exception ex, string stream, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Count} dead letters failed; the client got the reasons in its response")]
    private partial void LogDeadLetterFailed(Exception ex, int count);
}
