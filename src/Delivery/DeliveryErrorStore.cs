using System.IO.Compression;

namespace ReviewOrleans.Delivery;

/// <summary>
/// The errors store: records a destination never took, as gzip JSON lines with an <c>"error"</c> field, one file per
/// dead letter under <c>&lt;root&gt;/yyyy/MM/dd/HH/&lt;destination&gt;-…jsonl.gz</c>. A file appears whole or not at
/// all: it is written under a <c>.tmp</c> name and renamed once on disk.
/// </summary>
public sealed class DeliveryErrorStore(string root, TimeProvider clock)
{
    private readonly string _root = Path.GetFullPath(root);

    /// <summary>Stores <paramref name="records"/> with <paramref name="reason"/> on each line; returns the file's full path.</summary>
    public async Task<string> WriteAsync(string destination, IReadOnlyList<ScoredReview> records, string reason, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(reason);
        // The name goes into a file name: a separator would put the file somewhere else entirely.
        if (destination.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || destination.Contains('/') || destination.Contains('\\'))
        {
            throw new ArgumentException($"'{destination}' cannot be part of a file name", nameof(destination));
        }

        byte[] content;
        using (var buffer = new MemoryStream())
        {
            // Compressed in memory first (a dead letter is bounded by the delivery buffer), so the file takes a single write.
            using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            {
                GzipJsonlFileDestination.WriteLines(gzip, records, reason);
            }
            content = buffer.ToArray();
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var folder = GzipJsonlFileDestination.HourFolder(_root, now);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{destination}-{GzipJsonlFileDestination.Stamp(now)}-{GzipJsonlFileDestination.RandomHex()}.jsonl.gz");
        var temporary = path + ".tmp";
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await file.WriteAsync(content, ct).ConfigureAwait(false);
                // On disk before the rename: otherwise a crash could leave the final name over a hole.
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: false);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The original failure is what the caller needs; a stray .tmp is never read as data.
            }
            throw;
        }
        return path;
    }
}
