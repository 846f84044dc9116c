using System.Globalization;
using ReviewOrleans.Sentiment.Evaluation;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary>The text table of <c>reviewctl model eval</c>: one line per dataset and scorer, then confusion matrices.</summary>
internal static class ModelEvalTable
{
    public static void Print(IReadOnlyList<DatasetEvaluation> evaluations, bool categories)
    {
        Console.WriteLine();
        Console.WriteLine($"{"dataset",-22} {"scorer",-15} {"n",7} {"acc5",7} {"macroF1",7} {"MAE",6} {"MAE(E)",6} {"binary",7} {"cat-avg",7}");
        foreach (var e in evaluations)
        {
            Line(e.Dataset, e.Scorer, e.Overall, e.ByCategory.Count > 1 ? e.CategoryAverageBinaryAccuracy : double.NaN);
            if (categories)
            {
                foreach (var (name, m) in e.ByCategory)
                {
                    Line("  " + name, e.Scorer, m, double.NaN);
                }
            }
        }
        foreach (var e in evaluations.Where(e => e.Overall.StarCount > 0))
        {
            Console.WriteLine();
            Console.WriteLine($"confusion {e.Dataset} / {e.Scorer} (rows: true stars, columns: predicted stars)");
            Console.WriteLine("       " + string.Concat(Enumerable.Range(1, 5).Select(p => $"{p,7}")));
            for (var t = 1; t <= 5; t++)
            {
                Console.WriteLine($"{t,7}" + string.Concat(Enumerable.Range(1, 5).Select(p => $"{e.Overall.Confusion(t, p),7}")));
            }
        }
    }

    private static void Line(string dataset, string scorer, SentimentMetrics m, double categoryAverage) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Trim(dataset, 22),-22} {Trim(scorer, 15),-15} {m.Count,7} {Pct(m.Accuracy),7} {Num(m.MacroF1),7} {Num(m.MaeArgmax),6} {Num(m.MaeExpected),6} {Pct(m.BinaryAccuracy),7} {Pct(categoryAverage),7}"));

    private static string Trim(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";

    private static string Pct(double v) => double.IsNaN(v) ? "-" : (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Num(double v) => double.IsNaN(v) ? "-" : v.ToString("0.000", CultureInfo.InvariantCulture);
}
