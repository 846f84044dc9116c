using System.Globalization;
using System.Text;

namespace ReviewOrleans.Contracts.Reviews;

/// <summary>
/// One event read from a partition: its offset and its sequence number are both the number of its first line (counted
/// across the partition's files), so that an event keeps them when the partition is read again from any point.
/// </summary>
/// <param name="NextLine">The line after the event's last: where to read on for lines appended later.</param>
public sealed record FileReviewEvent(string Partition, long SequenceNumber, string Offset, byte[] Body, long NextLine);

/// <summary>
/// Archived review events on disk, as the file-backed Event Hubs source and <c>reviewctl replay</c> read them: under a
/// folder, each file (<c>.jsonl</c>, <c>.json</c>, <c>.tsv</c>) or sub-folder of such files (read in name order) is
/// one partition, named after it. Consecutive lines form an event, up to <see cref="LinesPerEvent"/>; a TSV file's
/// header line is put at the top of each of its events, so that every event reads on its own. Lines appended later are
/// read by reading again after the last line read (<see cref="Read"/>'s <c>fromOffset</c>).
/// </summary>
public sealed class ReviewEventFiles(string root, int linesPerEvent = ReviewEventFiles.DefaultLinesPerEvent)
{
    public const int DefaultLinesPerEvent = 100;

    public int LinesPerEvent { get; } = linesPerEvent > 0 ? linesPerEvent : throw new ArgumentOutOfRangeException(nameof(linesPerEvent));

    /// <summary>The partitions under the folder, in name order; <see cref="DirectoryNotFoundException"/> when it is missing.</summary>
    public IReadOnlyList<string> Partitions()
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"no folder of review events at {Path.GetFullPath(root)}");
        }
        var files = Directory.GetFiles(root).Where(IsEventFile).Select(Path.GetFileName);
        var folders = Directory.GetDirectories(root).Where(d => Directory.GetFiles(d).Any(IsEventFile)).Select(Path.GetFileName);
        return [.. files.Concat(folders).Order(StringComparer.Ordinal)!];
    }

    /// <summary>The bytes written to a partition so far: it grows when a producer appends.</summary>
    public long Length(string partition) => PartitionFiles(partition).Sum(f => new FileInfo(f).Length);

    private string[] PartitionFiles(string partition)
    {
        var path = Path.Combine(root, partition);
        return Directory.Exists(path) ? [.. Directory.GetFiles(path).Where(IsEventFile).Order(StringComparer.Ordinal)] : [path];
    }

    /// <summary>
    /// The events of one partition whose first line is at or after line <paramref name="fromOffset"/> (inclusive, as
    /// Event Hubs starts at a checkpoint), or all of them when it is null.
    /// </summary>
    public IEnumerable<FileReviewEvent> Read(string partition, string? fromOffset = null)
    {
        var files = PartitionFiles(partition);
        var from = fromOffset is null ? 0 : long.Parse(fromOffset, CultureInfo.InvariantCulture);
        long lineNumber = 0; // across the partition's files, so that offsets keep rising from file to file
        foreach (var file in files)
        {
            string? header = null;
            var lines = new List<string>(LinesPerEvent);
            long firstLine = 0;
            foreach (var line in CompleteLines(file))
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }
                if (header is null && lines.Count == 0 && file.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) && IsTsvHeader(line))
                {
                    header = line;
                    continue;
                }
                if (lineNumber < from)
                {
                    continue; // events start where the reading starts, as they did when it stopped there
                }
                if (lines.Count == 0)
                {
                    firstLine = lineNumber;
                }
                lines.Add(line);
                if (lines.Count == LinesPerEvent)
                {
                    yield return Event(partition, firstLine, header, lines, lineNumber + 1);
                    lines.Clear();
                }
            }
            if (lines.Count > 0)
            {
                yield return Event(partition, firstLine, header, lines, lineNumber + 1);
            }
        }
    }

    private static FileReviewEvent Event(string partition, long firstLine, string? header, List<string> lines, long nextLine)
    {
        var text = new StringBuilder();
        if (header is not null)
        {
            text.Append(header).Append('\n');
        }
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }
        return new FileReviewEvent(partition, firstLine, firstLine.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes(text.ToString()), nextLine);
    }

    /// <summary>The file's lines up to its last line break: a line still being written is left for a later read.</summary>
    private static IEnumerable<string> CompleteLines(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var end = file.Length;
        var buffer = new byte[4096];
        while (end > 0)
        {
            var start = Math.Max(0, end - buffer.Length);
            file.Position = start;
            file.ReadExactly(buffer, 0, (int)(end - start));
            var newline = Array.LastIndexOf(buffer, (byte)'\n', (int)(end - start) - 1);
            if (newline >= 0)
            {
                end = start + newline + 1;
                break;
            }
            end = start;
        }
        file.Position = 0;
        using var reader = new StreamReader(new BoundedStream(file, end), Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    /// <summary>The first <c>length</c> bytes of a stream.</summary>
    private sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, (int)Math.Min(count, length - _read));
            _read += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static bool IsTsvHeader(string line) =>
        line.Contains('\t') && (line.Contains("review_id", StringComparison.Ordinal) || line.Contains("review_body", StringComparison.Ordinal));

    private static bool IsEventFile(string path) =>
        path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase);
}
