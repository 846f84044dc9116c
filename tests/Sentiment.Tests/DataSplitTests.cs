using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class DataSplitTests
{
    private static readonly Lazy<SentimentDataSplits> Splits = new(() => SentimentDataSplits.Load(SharedDataLocator.Find()!));

    [SharedDataFact]
    public void Splits_TrainAndDevAgainstEveryTestSplit_ShareNoText()
    {
        var s = Splits.Value;
        var training = s.Train.Concat(s.Dev).Select(t => SentimentDataSplits.Normalize(t.Text)).ToHashSet(StringComparer.Ordinal);
        foreach (var (dataset, test) in s.Test)
        {
            var shared = test.Where(t => training.Contains(SentimentDataSplits.Normalize(t.Text))).Take(3).Select(t => t.Text).ToList();
            Assert.True(shared.Count == 0, $"{dataset}: test texts also in training: {string.Join(" | ", shared)}");
        }
    }

    [SharedDataFact]
    public void Splits_TrainAndDev_ShareNoText()
    {
        var s = Splits.Value;
        var train = s.Train.Select(t => SentimentDataSplits.Normalize(t.Text)).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(s.Dev, t => train.Contains(SentimentDataSplits.Normalize(t.Text)));
    }

    [SharedDataFact]
    public void Splits_TestSets_DeduplicatedAndSized()
    {
        var s = Splits.Value;
        var fdu = s.Test[SentimentDataSplits.FduMtl];
        Assert.Equal(fdu.Count, fdu.Select(t => SentimentDataSplits.Normalize(t.Text)).Distinct().Count());
        Assert.Equal(14, fdu.Select(t => t.Category).Distinct().Count());
        Assert.Equal(3000, s.Test[SentimentDataSplits.Uci].Count);
        // The clothing split holds out about 20% of items (by XxHash64 of the Clothing ID); reviews per item vary,
        // so allow 12–30% of the 22,641 texts.
        Assert.InRange(s.Test[SentimentDataSplits.Clothing].Count, 0.12 * 22641, 0.30 * 22641);
        Assert.DoesNotContain(s.Train, t => t.Dataset == SentimentDataSplits.Uci);
    }

    [SharedDataFact]
    public void Splits_LoadedTwice_Identical()
    {
        var again = SentimentDataSplits.Load(SharedDataLocator.Find()!);
        Assert.Equal(Splits.Value.Train.Select(t => t.Text), again.Train.Select(t => t.Text));
    }

    [Fact]
    public void Load_MissingFolder_ThrowsNamingIt()
    {
        var ex = Assert.Throws<DirectoryNotFoundException>(() => SentimentDataSplits.Load("/nonexistent/shared/data"));
        Assert.Contains("/nonexistent/shared/data", ex.Message);
    }

    [Fact]
    public void CsvReader_QuotedFieldsWithCommasQuotesAndNewlines_Parsed()
    {
        var rows = CsvReader.Read(new StringReader("a,\"b, \"\"c\"\"\nd\",e\r\n1,2,3")).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(["a", "b, \"c\"\nd", "e"], rows[0]);
        Assert.Equal(["1", "2", "3"], rows[1]);
    }
}
