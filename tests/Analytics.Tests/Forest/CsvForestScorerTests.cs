using System.Globalization;
using System.Text;
using ReviewOrleans.Analytics.Forest;

namespace ReviewOrleans.Analytics.Tests.Forest;

/// <summary>The engine of <c>reviewctl rcf</c>: CSV in, one line per point out, clear errors for bad input.</summary>
public sealed class CsvForestScorerTests
{
    private static (long Points, string Output) Run(string input, CsvForestScorer? scorer = null)
    {
        scorer ??= new CsvForestScorer { Options = new RandomCutForestOptions { NumberOfTrees = 20, SampleSize = 32 } };
        using var output = new MemoryStream();
        var points = scorer.Run(new MemoryStream(Encoding.UTF8.GetBytes(input)), output);
        return (points, Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void Run_EmptyStream_ThrowsSayingThereAreNoPoints()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Run(""));
        Assert.Contains("no points", ex.Message);
        Assert.Throws<InvalidDataException>(() => Run("\n\r\n  \n"));
    }

    [Theory]
    [InlineData("1,2\n3,NaN\n", "Line 2, column 2: 'NaN' is not finite")]
    [InlineData("1,2\n3,Infinity\n", "'Infinity' is not finite")]
    [InlineData("1,2\n-Infinity,4\n", "'-Infinity' is not finite")]
    [InlineData("1,2\n3,abc\n", "Line 2, column 2: 'abc' is not a number")]
    [InlineData("1,2\n3\n", "Line 2 has 1 value(s) but the first point had 2")]
    [InlineData("1,2\n3,4,5\n", "Line 2 has 3 value(s)")]
    [InlineData("1,,2\n", "Line 1, column 2: '' is not a number")]
    [InlineData("1\n1e300\n", "Line 2, column 1: '1e300' is outside the single-precision range")]
    public void Run_BadLine_ThrowsNamingLineAndProblem(string input, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Run(input));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Run_Points_OneScoreLinePerPointEqualToTheForest()
    {
        var data = RandomCutForestTests.Sine(300, 2);
        var csv = string.Join("\r\n", data.Select(r => string.Join(",", r.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        var options = new RandomCutForestOptions { NumberOfTrees = 20, SampleSize = 32 };
        var (points, output) = Run(csv, new CsvForestScorer { Options = options, Threads = 2 });
        Assert.Equal(300, points);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(300, lines.Length);

        var forest = new RandomCutForest(options with { Dimensions = 2 });
        for (var i = 0; i < data.Length; i++)
        {
            Assert.Equal(forest.ScoreAndUpdate(data[i]).ToString("F6", CultureInfo.InvariantCulture), lines[i]);
        }
    }

    [Fact]
    public void Run_BadLineAfterGoodOnes_WritesTheGoodScoresThenThrows()
    {
        var scorer = new CsvForestScorer { Options = new RandomCutForestOptions { NumberOfTrees = 4, SampleSize = 8, OutputAfter = 1 }, Threads = 2 };
        using var output = new MemoryStream();
        Assert.Throws<InvalidDataException>(() => scorer.Run(new MemoryStream("1\n2\n3\nx\n"u8.ToArray()), output));
        Assert.Equal(3, Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Run_Attribution_WritesScoreThenValueAndDirectionPerColumn()
    {
        var rows = RandomCutForestTests.Sine(200, 2).Select(r => $"{r[0]:F3},{r[1]:F3}").Append("60,10");
        var (_, output) = Run(string.Join("\n", rows) + "\n", new CsvForestScorer
        {
            Options = new RandomCutForestOptions { NumberOfTrees = 20, SampleSize = 32 },
            Attribution = true,
        });
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Split(',');
        Assert.Equal(5, last.Length);
        Assert.Equal("HIGH", last[2]);
        Assert.Contains(last[4], new[] { "HIGH", "LOW" });
        var score = double.Parse(last[0], CultureInfo.InvariantCulture);
        var sum = double.Parse(last[1], CultureInfo.InvariantCulture) + double.Parse(last[3], CultureInfo.InvariantCulture);
        // Three numbers printed to 6 decimals: each is off by at most 5e-7.
        Assert.InRange(Math.Abs(score - sum), 0, 1.5e-6 + 1e-12);
        Assert.True(score > 2);
    }

    [Fact]
    public void Run_Json_WritesOneObjectPerLine()
    {
        var (_, output) = Run("1\n2\n3\n", new CsvForestScorer { Json = true, Options = new RandomCutForestOptions { OutputAfter = 1 } });
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("{\"score\":0.000000}", lines[0]);
        Assert.StartsWith("{\"score\":", lines[1]);
    }
}
