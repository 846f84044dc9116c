using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace ReviewOrleans.Delivery;

/// <summary>
/// Gzip JSON-lines files under <c>&lt;root&gt;/yyyy/MM/dd/HH/</c>, one gzip member per batch. A file is written under a
/// <c>.open</c> suffix and renamed to <c>*.jsonl.gz</c> once finished (by size, by age, or on dispose), so consumers
/// only ever list complete files. A sidecar <c>&lt;file&gt;.open.length</c> holds the length of the durable members, so
/// a crashed process's torn last member is cut off when the next one starts.
/// </summary>
public sealed class GzipJsonlFileDestination : IScoredReviewDestination
{
    private const string FinishedSuffix = ".jsonl.gz";
    private const string OpenSuffix = ".open";
    private const string LengthSuffix = ".length";

    private readonly string _root;
    private readonly long _maxBytes;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _clock;
    private readonly string _writer;

    // The delivery loop serialises writes, but RotateIfDue comes from a timer; one gate keeps the two apart.
    private readonly SemaphoreSlim _gate = new(1, 1);

    private FileStream? _file;
    private FileStream? _sidecar;
    private string? _openPath;
    private long _committed;
    private DateTimeOffset _begunAt;
    private bool _disposed;

    /// <param name="writer">
    /// Begins this writer's file names (<c>&lt;writer&gt;-&lt;time&gt;-&lt;random&gt;.jsonl.gz</c>): several silos may share a
    /// folder, and each recovers only its own files at start, never one another silo is writing.
    /// </param>
    public GzipJsonlFileDestination(string root, long maxBytes, TimeSpan maxAge, TimeProvider clock, string writer = "scored")
    {
        ArgumentException.ThrowIfNullOrEmpty(writer);
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxAge, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(clock);
        _root = Path.GetFullPath(root);
        _maxBytes = maxBytes;
        _maxAge = maxAge;
        _clock = clock;
        _writer = writer;
        Directory.CreateDirectory(_root);
        Recover(_root, writer);
    }

    public string Name => "files";

    /// <summary>The file being written (with its <c>.open</c> suffix), if any.</summary>
    internal string? OpenFilePath => _openPath;

    public async Task DeliverAsync(IReadOnlyList<ScoredReview> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            // An empty member would only add a header; and it must not open a file that could end up empty.
            return;
        }
        // Compressed before taking the gate: it is the slow part and touches no shared state.
        var member = Compress(records);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RotateIfDueLocked();
            EnsureOpen();
            await AppendAsync(member, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Finishes the open file if it is past its size or age, without writing: called periodically so that a quiet
    /// stream's file is still handed to consumers on time.
    /// </summary>
    void IScoredReviewDestination.Tick() => RotateIfDue();

    public void RotateIfDue()
    {
        _gate.Wait();
        try
        {
            if (!_disposed)
            {
                RotateIfDueLocked();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            FinishOpenFile();
        }
        finally
        {
            _gate.Release();
        }
        // The gate is not disposed: a timer's late RotateIfDue must find it and see _disposed, not throw.
    }

    /// <summary>Drops the handles as a killed process would, leaving the file and its sidecar for recovery (tests).</summary>
    internal void SimulateCrash()
    {
        _gate.Wait();
        try
        {
            _disposed = true;
            CloseHandles();
            _openPath = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static byte[] Compress(IReadOnlyList<ScoredReview> records)
    {
        using var buffer = new MemoryStream();
        // Disposing the GZipStream writes the trailer: the member must be complete before it goes near the file.
        // Fastest: repetitive JSON compresses well at any level, and the delivery shares its silo's cores with scoring.
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            WriteLines(gzip, records, error: null);
        }
        return buffer.ToArray();
    }

    /// <summary>Writes each record as one JSON line; shared with <see cref="DeliveryErrorStore"/>.</summary>
    internal static void WriteLines(Stream output, IReadOnlyList<ScoredReview> records, string? error)
    {
        const int chunk = 64 * 1024;
        var lines = new ArrayBufferWriter<byte>(chunk);
        using var writer = new Utf8JsonWriter(lines);
        foreach (var record in records)
        {
            ScoredReviewJson.Write(writer, record, error);
            writer.Flush();
            lines.GetSpan(1)[0] = (byte)'\n';
            lines.Advance(1);
            // Reset lets the writer start the next top-level value; it refuses a second one otherwise.
            writer.Reset(lines);
            if (lines.WrittenCount >= chunk)
            {
                output.Write(lines.WrittenSpan);
                lines.ResetWrittenCount();
            }
        }
        output.Write(lines.WrittenSpan);
    }

    private void RotateIfDueLocked()
    {
        if (_openPath is not null && (_committed >= _maxBytes || _clock.GetUtcNow() - _begunAt >= _maxAge))
        {
            FinishOpenFile();
        }
    }

    private void EnsureOpen()
    {
        if (_openPath is not null)
        {
            return;
        }
        var now = _clock.GetUtcNow().UtcDateTime;
        var folder = HourFolder(_root, now);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{_writer}-{Stamp(now)}-{RandomHex()}{FinishedSuffix}{OpenSuffix}");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        FileStream sidecar;
        try
        {
            sidecar = new FileStream(path + LengthSuffix, FileMode.Create, FileAccess.Write, FileShare.Read);
            // A zero sidecar from the start: a crash during the first member then cuts the file to nothing.
            WriteLength(sidecar, 0);
        }
        catch
        {
            file.Dispose();
            TryDelete(path);
            TryDelete(path + LengthSuffix);
            throw;
        }
        _file = file;
        _sidecar = sidecar;
        _openPath = path;
        _committed = 0;
        _begunAt = _clock.GetUtcNow();
    }

    private async Task AppendAsync(byte[] member, CancellationToken cancellationToken)
    {
        var file = _file!;
        var previous = _committed;
        try
        {
            file.Position = previous;
            await file.WriteAsync(member, cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            // Only once the member is on disk may the sidecar vouch for it.
            WriteLength(_sidecar!, previous + member.Length);
            _committed = previous + member.Length;
        }
        catch
        {
            RollBack(previous);
            throw;
        }
    }

    /// <summary>Cuts a failed member off, so the caller's retry does not follow a torn one.</summary>
    private void RollBack(long committed)
    {
        try
        {
            _file!.SetLength(committed);
            _file.Flush(flushToDisk: true);
            WriteLength(_sidecar!, committed);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The file's state is unknown: leave it to recovery, which trusts only the sidecar, and start afresh.
            var path = _openPath!;
            CloseHandles();
            _openPath = null;
            try
            {
                RecoverFile(path);
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
                // Still stuck; it stays .open and the next start recovers it.
            }
        }
    }

    private void FinishOpenFile()
    {
        if (_openPath is null)
        {
            return;
        }
        var path = _openPath;
        var empty = _committed == 0;
        CloseHandles();
        // Forgotten before the rename: should it fail, the file stays .open and recovery finishes it on the next start.
        _openPath = null;
        Finish(path, empty);
    }

    private void CloseHandles()
    {
        _file?.Dispose();
        _sidecar?.Dispose();
        _file = null;
        _sidecar = null;
    }

    /// <summary>Renames <c>x.jsonl.gz.open</c> to <c>x.jsonl.gz</c>, or deletes it if it holds no member.</summary>
    private static void Finish(string openPath, bool empty)
    {
        if (empty)
        {
            File.Delete(openPath);
        }
        else
        {
            File.Move(openPath, openPath[..^OpenSuffix.Length], overwrite: false);
        }
        // After the rename: a sidecar outliving its file is harmless (recovery removes it), a missing one is not.
        TryDelete(openPath + LengthSuffix);
    }

    private static void Recover(string root, string writer)
    {
        foreach (var path in Directory.GetFiles(root, writer + "-*" + FinishedSuffix + OpenSuffix, SearchOption.AllDirectories))
        {
            RecoverFile(path);
        }
        foreach (var sidecar in Directory.GetFiles(root, writer + "-*" + FinishedSuffix + OpenSuffix + LengthSuffix, SearchOption.AllDirectories))
        {
            if (!File.Exists(sidecar[..^LengthSuffix.Length]))
            {
                TryDelete(sidecar);
            }
        }
    }

    /// <summary>Cuts a crashed writer's file back to its last durable member and finishes it.</summary>
    private static void RecoverFile(string openPath)
    {
        var committed = ReadLength(openPath + LengthSuffix);
        long length;
        using (var file = new FileStream(openPath, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            // A length past the end cannot be trusted either (the file was cut by something else): keep what is there.
            if (committed is { } known && known <= file.Length)
            {
                file.SetLength(known);
                file.Flush(flushToDisk: true);
            }
            length = file.Length;
        }
        Finish(openPath, empty: length == 0);
    }

    private static long? ReadLength(string sidecarPath)
    {
        try
        {
            var bytes = File.ReadAllBytes(sidecarPath);
            if (bytes.Length != sizeof(long))
            {
                return null;
            }
            var length = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            return length >= 0 ? length : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void WriteLength(FileStream sidecar, long length)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, length);
        // Overwritten in place: 8 bytes at offset 0 never straddle a sector, so a crash leaves the old or the new value.
        sidecar.Position = 0;
        sidecar.Write(bytes);
        sidecar.Flush(flushToDisk: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Leftovers are cleaned by the next start's recovery.
        }
    }

    internal static string HourFolder(string root, DateTime utc) => Path.Combine(
        root,
        utc.ToString("yyyy", CultureInfo.InvariantCulture),
        utc.ToString("MM", CultureInfo.InvariantCulture),
        utc.ToString("dd", CultureInfo.InvariantCulture),
        utc.ToString("HH", CultureInfo.InvariantCulture));

    internal static string Stamp(DateTime utc) => utc.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);

    // Random rather than a counter: two processes (or a restart within the same millisecond) must not collide.
    internal static string RandomHex() => RandomNumberGenerator.GetHexString(8, lowercase: true);
}
