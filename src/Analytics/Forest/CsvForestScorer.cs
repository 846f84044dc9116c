using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace ReviewOrleans.Analytics.Forest;

/// <summary>
/// Scores a CSV stream of points with a <see cref="RandomCutForest"/> (score, then update, per line) and writes one
/// result line per point: the score, and with <see cref="Attribution"/> per input column the attribution and its
/// direction (<c>score,a0,HIGH,a1,LOW,…</c>, the layout of the AWS reference files), or JSON lines with
/// <see cref="Json"/>. The number of columns is taken from the first point. This is the engine of
/// <c>reviewctl rcf</c>; it parses UTF-8 bytes in place and buffers output, so that a whole process keeps up with
/// the forest.
/// </summary>
public sealed class CsvForestScorer
{
    /// <summary>Forest options; <see cref="RandomCutForestOptions.Dimensions"/> is replaced by the input's column count.</summary>
    public RandomCutForestOptions Options { get; init; } = new();

    /// <summary>Also write per-column attributions and directions.</summary>
    public bool Attribution { get; init; }

    /// <summary>Write JSON lines (<c>{"score":…,"attribution":[{"value":…,"direction":"HIGH"}]}</c>) instead of CSV.</summary>
    public bool Json { get; init; }

    /// <summary>
    /// Threads for scoring (groups of trees in parallel over blocks of points) or, with <see cref="Attribution"/>,
    /// for each point's attribution (groups of trees in parallel); results are identical for any number. Default 1.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>Points scored per batch when not attributing.</summary>
    private const int BlockSize = 4096;

    /// <summary>The forest after <see cref="Run"/>, for callers that want to save it.</summary>
    public RandomCutForest? Forest { get; private set; }

    /// <summary>Reads every point from <paramref name="input"/>, writes results to <paramref name="output"/>.</summary>
    /// <returns>The number of points scored.</returns>
    /// <exception cref="InvalidDataException">
    /// The input is empty, a value is not a finite number, or a line's column count differs from the first line's
    /// (the message gives the line number).
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    public long Run(Stream input, Stream output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(Threads, 1);
        var reader = new ByteLineReader(input);
        var writer = new OutputBuffer(output);
        double[] values = new double[16];
        double[] block = [];
        double[] scores = new double[BlockSize];
        var pending = 0;
        long lineNumber = 0;
        long points = 0;
        RandomCutForest? forest = null;
        try
        {
            while (reader.TryReadLine(out var line))
            {
                lineNumber++;
                var count = ParseLine(line, ref values, lineNumber);
                if (count == 0)
                {
                    continue;
                }
                if (forest is null)
                {
                    forest = new RandomCutForest(Options with { Dimensions = count });
                    Forest = forest;
                    block = new double[BlockSize * count];
                }
                else if (count != forest.Options.Dimensions)
                {
                    throw new InvalidDataException(
                        $"Line {lineNumber} has {count} value(s) but the first point had {forest.Options.Dimensions}.");
                }
                var point = values.AsSpan(0, count);
                if (Attribution)
                {
                    var attribution = forest.Attribute(point, Threads);
                    forest.Update(point);
                    WriteAttribution(ref writer, attribution);
                }
                else
                {
                    point.CopyTo(block.AsSpan(pending * count));
                    if (++pending == BlockSize)
                    {
                        ScoreBlock(forest, block, scores, ref pending, ref writer);
                    }
                }
                points++;
            }
        }
        finally
        {
            // Points before a bad line are still scored and written, as a line-at-a-time run would have.
            if (forest is not null && pending > 0)
            {
                ScoreBlock(forest, block, scores, ref pending, ref writer);
            }
            writer.Flush();
        }
        if (points == 0)
        {
            throw new InvalidDataException("The input has no points (it is empty or holds only blank lines).");
        }
        return points;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScoreBlock(RandomCutForest forest, double[] block, double[] scores, ref int pending, ref OutputBuffer writer)
    {
        var dims = forest.Options.Dimensions;
        var count = pending;
        pending = 0;
        forest.ScoreAndUpdate(block.AsSpan(0, count * dims), scores, Threads);
        for (var i = 0; i < count; i++)
        {
            if (Json)
            {
                writer.WriteAscii("{\"score\":");
                writer.WriteNumber(scores[i]);
                writer.WriteAscii("}\n");
            }
            else
            {
                writer.WriteNumber(scores[i]);
                writer.WriteByte((byte)'\n');
            }
        }
    }

    private void WriteAttribution(ref OutputBuffer writer, AnomalyAttribution attribution)
    {
        if (Json)
        {
            writer.WriteAscii("{\"score\":");
            writer.WriteNumber(attribution.Score);
            writer.WriteAscii(",\"attribution\":[");
            for (var d = 0; d < attribution.Dimensions; d++)
            {
                writer.WriteAscii(d == 0 ? "{\"value\":" : ",{\"value\":");
                writer.WriteNumber(attribution.Attribution(d));
                writer.WriteAscii(attribution.Direction(d) == AttributionDirection.High ? ",\"direction\":\"HIGH\"}" : ",\"direction\":\"LOW\"}");
            }
            writer.WriteAscii("]}\n");
            return;
        }
        writer.WriteNumber(attribution.Score);
        for (var d = 0; d < attribution.Dimensions; d++)
        {
            writer.WriteByte((byte)',');
            writer.WriteNumber(attribution.Attribution(d));
            writer.WriteAscii(attribution.Direction(d) == AttributionDirection.High ? ",HIGH" : ",LOW");
        }
        writer.WriteByte((byte)'\n');
    }

    /// <summary>Parses comma-separated numbers; returns 0 for a blank line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    private static int ParseLine(ReadOnlySpan<byte> line, ref double[] values, long lineNumber)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }
        if (line.Trim((byte)' ').IsEmpty)
        {
            return 0;
        }
        var count = 0;
        while (true)
        {
            var comma = line.IndexOf((byte)',');
            var field = (comma < 0 ? line : line[..comma]).Trim((byte)' ');
            if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                || !double.IsFinite(value) || Math.Abs(value) > float.MaxValue)
            {
                var text = Encoding.UTF8.GetString(field);
                throw new InvalidDataException(!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
                    ? $"Line {lineNumber}, column {count + 1}: '{text}' is not a number."
                    : double.IsFinite(parsed)
                        ? $"Line {lineNumber}, column {count + 1}: '{text}' is outside the single-precision range the forest stores."
                        : $"Line {lineNumber}, column {count + 1}: '{text}' is not finite; points must be finite numbers.");
            }
            if (count == values.Length)
            {
                Array.Resize(ref values, values.Length * 2);
            }
            values[count++] = value;
            if (comma < 0)
            {
                return count;
            }
            line = line[(comma + 1)..];
        }
    }

    private struct OutputBuffer(Stream stream)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _length;

        public void WriteByte(byte value)
        {
            if (_length == _buffer.Length)
            {
                Flush();
            }
            _buffer[_length++] = value;
        }

        public void WriteAscii(string text)
        {
            if (_length + text.Length > _buffer.Length)
            {
                Flush();
            }
            _length += Encoding.ASCII.GetBytes(text, _buffer.AsSpan(_length));
        }

        /// <summary>Six decimals, as the AWS reference files print scores.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void WriteNumber(double value)
        {
            if (_length + 64 > _buffer.Length)
            {
                Flush();
            }
            if (!value.TryFormat(_buffer.AsSpan(_length), out var written, "F6", CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException("Number formatting overflowed its buffer.");
            }
            _length += written;
        }

        public void Flush()
        {
            stream.Write(_buffer, 0, _length);
            _length = 0;
            stream.Flush();
        }
    }
}
