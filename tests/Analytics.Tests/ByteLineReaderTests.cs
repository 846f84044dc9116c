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
}
