using System.Runtime.CompilerServices;

namespace ReviewOrleans.Analytics;

/// <summary>
/// Splits a byte stream into lines at '\n' without decoding or allocating per line (the buffer grows only for a line
/// longer than it). A last line without a newline is returned too; a trailing '\r' is left to the caller. A UTF-8
/// byte order mark at the start of the stream (as Excel and Notepad write) is skipped, so that it does not become
/// part of the first value.
/// </summary>
public sealed class ByteLineReader(Stream stream)
{
    private static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _end;
    private int _scanned; // bytes after _start already known to hold no '\n', so a long line is scanned once
    private bool _eof;
    private bool _pastByteOrderMark;

    /// <summary>The next line, without its '\n'; valid until the next call. False at the end of the stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            if (!_pastByteOrderMark && (_end - _start >= ByteOrderMark.Length || _eof))
            {
                if (_buffer.AsSpan(_start, _end - _start).StartsWith(ByteOrderMark))
                {
                    _start += ByteOrderMark.Length;
                }
                _pastByteOrderMark = true;
            }
            if (_pastByteOrderMark)
            {
                var newline = _buffer.AsSpan(_start + _scanned, _end - _start - _scanned).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    line = _buffer.AsSpan(_start, _scanned + newline);
                    _start += _scanned + newline + 1;
                    _scanned = 0;
                    return true;
                }
                _scanned = _end - _start;
            }
            if (_eof)
            {
                if (_start < _end)
                {
                    line = _buffer.AsSpan(_start, _end - _start);
                    _start = _end;
                    _scanned = 0;
                    return true;
                }
                line = default;
                return false;
            }
            if (_start > 0)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            var read = stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _eof = true;
            }
            _end += read;
        }
    }
}
