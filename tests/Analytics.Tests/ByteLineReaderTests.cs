using System.Text;

namespace ReviewOrleans.Analytics.Tests;

public sealed class ByteLineReaderTests
{
    private static List<string> ReadAll(byte[] bytes)
    {
        var reader = new ByteLineReader(new MemoryStream(bytes));
        var lines = new List<string>();
        while (reader.TryReadLine(out var line))
        {
            lines.Add(Encoding.UTF8.GetString(line));
        }
        return lines;
    }

    [Fact]
    public void TryReadLine_LastLineWithoutNewline_StillReturnedAndCrKept()
    {
        Assert.Equal(["a", "", "b\r", "c"], ReadAll("a\n\nb\r\nc"u8.ToArray()));
    }

    [Fact]
    public void TryReadLine_EmptyStream_NoLines() => Assert.Empty(ReadAll([]));

    [Fact]
    public void TryReadLine_LineLongerThanTheBuffer_ReturnedWhole()
    {
        var longLine = new string('x', 200_000);
        Assert.Equal([longLine, "y"], ReadAll(Encoding.UTF8.GetBytes(longLine + "\ny\n")));
    }
    [Fact]
    public void TryReadLine_LeadingByteOrderMark_Skipped()
    {
        Assert.Equal(["1.5", "2"], ReadAll([0xEF, 0xBB, 0xBF, .. "1.5\n2"u8]));
        Assert.Equal(["x", "\uFEFFy"], ReadAll([.. "x\n"u8, 0xEF, 0xBB, 0xBF, .. "y"u8])); // only at the start
        Assert.Equal(["\u00EF"], ReadAll([0xC3, 0xAF])); // shorter than a mark
        Assert.Empty(ReadAll([0xEF, 0xBB, 0xBF]));
    }

    [Fact]
    public void TryReadLine_StreamGivingFewBytesPerRead_SameLines()
    {
        // Pipes return what is there; a line arrives over many reads and is scanned once, not once per read.
        var text = "\uFEFF" + string.Join("\n", Enumerable.Range(0, 50).Select(i => new string((char)('a' + (i % 26)), i * 997)));
        var reader = new ByteLineReader(new TrickleStream(Encoding.UTF8.GetBytes(text), 7));
        var lines = new List<string>();
        while (reader.TryReadLine(out var line))
        {
            lines.Add(Encoding.UTF8.GetString(line));
        }
        Assert.Equal(text[1..].Split('\n'), lines);
    }

    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));
    }
}
