using System.Text;
using System.Text.Unicode;
using ReviewOrleans.Analytics;
using ReviewOrleans.Contracts.Api;
using ReviewOrleans.Contracts.Reviews;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>
/// <c>reviewctl send FILE|-</c>: sends JSONL in the review schema, Amazon Customer Reviews TSV (with its header) or
/// the reference pipeline's TSV, in batches, and prints accepted and failed counts with the reasons.
/// </summary>
internal static class SendCommand
{
    private enum InputFormat { Jsonl, AmazonTsv, ReferenceTsv }

    public static Task<int> RunAsync(string[] args) => GatewayConnection.RunAsync(args, [], async (gateway, cl) =>
    {
        var batchSize = cl.Int("batch", 500);
        var batchBytes = cl.Int("batch-bytes", DefaultBatchBytes);
        var maxReasons = cl.Int("reasons", 20);
        cl.RejectUnknownOptions();
        if (cl.Positionals.Count != 1)
        {
            throw new CommandLineException("usage: reviewctl send <file|-> [--batch N] [--batch-bytes N] [--gateway URL] [--api-key KEY] [--json]");
        }
        if (batchSize < 1)
        {
            throw new CommandLineException("option --batch must be at least 1");
        }
        if (batchBytes < 1024)
        {
            throw new CommandLineException("option --batch-bytes must be at least 1024");
        }
        var path = cl.Positionals[0];
        using var input = path == "-" ? Console.OpenStandardInput() : OpenFile(path);
        // Lines are read as bytes: a StreamReader would turn a byte that is not UTF-8 into U+FFFD without a word, and
        // a category "Books\uFFFD" would be sent as a new category.
        var reader = new ByteLineReader(input);

        var summary = new SendSummary();
        var batch = new Batch(batchSize, batchBytes);
        InputFormat? format = null;
        Dictionary<string, int>? amazonHeader = null;
        var lineNumber = 0;
        while (reader.TryReadLine(out var bytes))
        {
            lineNumber++;
            if (!bytes.IsEmpty && bytes[^1] == (byte)'\r')
            {
                bytes = bytes[..^1]; // as StreamReader did for CRLF files
            }
            if (bytes.IsEmpty)
            {
                continue;
            }
            if (!Utf8.IsValid(bytes))
            {
                // Never reached the gateway, so it is reported here, with its line number.
                summary.Fail($"line {lineNumber}", "line.invalid_utf8",
                    $"line {lineNumber}: bytes that are not UTF-8 (the first at byte {FirstInvalidByte(bytes)} of the line); the line was not sent");
                continue;
            }
            var line = Encoding.UTF8.GetString(bytes);
            if (format is null)
            {
                // A header naming review_id or review_body among tab-separated columns, in any order, is the Amazon
                // TSV's (the reference TSV has no header); taken for data, it would be sent as a review.
                var columns = line.TrimEnd('\r').Split('\t');
                format = line.TrimStart().StartsWith('{') ? InputFormat.Jsonl
                    : columns.Length > 1 && (columns.Contains("review_id") || columns.Contains("review_body") || columns[0] == "marketplace")
                        ? InputFormat.AmazonTsv
                        : InputFormat.ReferenceTsv;
                if (format == InputFormat.AmazonTsv)
                {
                    try
                    {
                        amazonHeader = ReviewParser.ReadAmazonTsvHeader(line);
                    }
                    catch (FormatException ex)
                    {
                        throw new CommandLineException($"line 1: {ex.Message}");
                    }
                    continue;
                }
            }
            ReviewRecord record;
            switch (format)
            {
                case InputFormat.Jsonl:
                    record = new ReviewRecord { Json = line };
                    break;
                case InputFormat.ReferenceTsv:
                    record = new ReviewRecord { ReferenceTsv = line };
                    break;
                default:
                    var parsed = ReviewParser.FromAmazonTsv(line, amazonHeader!);
                    if (parsed.Rejection is { } rejection)
                    {
                        // Never reached the gateway, so it is reported here, with its line number.
                        summary.Fail($"line {lineNumber}", rejection.Code, rejection.ToString());
                        continue;
                    }
                    record = new ReviewRecord { Review = ReviewApi.ToApi(parsed.Review!) };
                    break;
            }
            if (!batch.Fits(record))
            {
                await SendBatch(gateway, batch, summary);
            }
            batch.Add(record);
        }
        if (batch.Request.Records.Count > 0)
        {
            await SendBatch(gateway, batch, summary);
        }
        summary.Print(gateway.Json, maxReasons, format?.ToString() ?? "empty");
        return summary.Failed == 0 ? 0 : 3;
    });

    private static FileStream OpenFile(string path) => File.Exists(path)
        ? File.OpenRead(path)
        : throw new CommandLineException($"file not found: {path}");

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length && Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            offset += consumed;
        }
        return offset;
    }

    /// <summary>
    /// Bytes per call by default: a quarter of the gateway's default Gateway:MaxRequestBytes (16 MiB), so that 500
    /// reviews of the largest allowed body (64 KiB) go as several calls instead of one that is refused.
    /// </summary>
    public const int DefaultBatchBytes = 4 * 1024 * 1024;

    /// <summary>The records of the next call, bounded by count and by encoded size.</summary>
    private sealed class Batch(int maxRecords, int maxBytes)
    {
        private int _bytes;

        public PutReviewsRequest Request { get; } = new();

        /// <summary>Whether <paramref name="record"/> joins this call; a record alone always goes.</summary>
        public bool Fits(ReviewRecord record) =>
            Request.Records.Count == 0 || (Request.Records.Count < maxRecords && _bytes + EncodedSize(record) <= maxBytes);

        public void Add(ReviewRecord record)
        {
            Request.Records.Add(record);
            _bytes += EncodedSize(record);
        }

        public void Clear()
        {
            Request.Records.Clear();
            _bytes = 0;
        }

        // The record, its field tag and its length prefix.
        private static int EncodedSize(ReviewRecord record)
        {
            var size = record.CalculateSize();
            return 1 + Google.Protobuf.CodedOutputStream.ComputeLengthSize(size) + size;
        }
    }

    private static async Task SendBatch(GatewayConnection gateway, Batch batch, SendSummary summary)
    {
        var response = await gateway.Client.PutReviewsAsync(batch.Request);
        summary.Accepted += response.AcceptedRecordCount;
        foreach (var record in response.Records.Where(r => r.ErrorCode.Length > 0))
        {
            summary.Fail(record.ReviewId.Length > 0 ? record.ReviewId : "(no review_id)", record.ErrorCode, record.ErrorMessage);
        }
        batch.Clear();
    }

    private sealed class SendSummary
    {
        private readonly List<(string Id, string Code, string Message)> _failures = [];
        private readonly Dictionary<string, int> _byCode = [];

        public long Accepted { get; set; }

        public long Failed { get; private set; }

        public void Fail(string id, string code, string message)
        {
            Failed++;
            _byCode[code] = _byCode.GetValueOrDefault(code) + 1;
            if (_failures.Count < 10_000)
            {
                _failures.Add((id, code, message));
            }
        }

        public void Print(bool json, int maxReasons, string format)
        {
            if (json)
            {
                var payload = new
                {
                    format,
                    accepted = Accepted,
                    failed = Failed,
                    failures_by_code = _byCode,
                    failures = _failures.Take(maxReasons).Select(f => new { review_id = f.Id, error_code = f.Code, error_message = f.Message }),
                };
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(payload));
                return;
            }
            Console.WriteLine($"format: {format}   accepted: {Accepted}   failed: {Failed}");
            foreach (var (code, count) in _byCode.OrderByDescending(c => c.Value))
            {
                Console.WriteLine($"  {count,8}  {code}");
            }
            foreach (var (id, _, message) in _failures.Take(maxReasons))
            {
                Console.WriteLine($"  {id}: {message}");
            }
        }
    }
}
