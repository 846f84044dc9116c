using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace ReviewOrleans.Sentiment.Training;

/// <summary>
/// The training, development and held-out test splits of the review data in <c>shared/data</c> (see its
/// README.md). Every split is a pure function of the files, so it is the same on every machine:
/// <list type="bullet">
/// <item>womens-clothing: split by Clothing ID (XxHash64 of the id): 20% of items test, 10% dev, 70% train, so one
/// item's reviews never sit on both sides. The text is the title and the review joined.</item>
/// <item>fdu-mtl: *.train deduplicated; 10% of it (by text hash) is dev; *.test deduplicated within itself and
/// with every training or dev text removed.</item>
/// <item>uci-sentences: out-of-domain evaluation only, never trained on.</item>
/// </list>
/// Finally any train or dev text that also occurs in a test split (after whitespace and case folding) is dropped.
/// </summary>
internal sealed class SentimentDataSplits
{
    public const string Clothing = "womens-clothing";
    public const string FduMtl = "fdu-mtl";
    public const string Uci = "uci-sentences";

    public required IReadOnlyList<LabeledText> Train { get; init; }
    public required IReadOnlyList<LabeledText> Dev { get; init; }

    /// <summary>Held-out test texts per dataset name.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<LabeledText>> Test { get; init; }

    public static SentimentDataSplits Load(string dataDirectory)
    {
        if (!Directory.Exists(dataDirectory))
        {
            throw new DirectoryNotFoundException($"training data folder not found: {dataDirectory} (expected shared/data beside the repository)");
        }
        var train = new List<LabeledText>();
        var dev = new List<LabeledText>();
        var clothingTest = new List<LabeledText>();
        LoadClothing(Path.Combine(dataDirectory, Clothing, "reviews.csv"), train, dev, clothingTest);
        var fduTest = LoadFdu(Path.Combine(dataDirectory, FduMtl), train, dev);
        var uci = LoadUci(Path.Combine(dataDirectory, Uci));

        var heldOut = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in clothingTest.Concat(fduTest).Concat(uci))
        {
            heldOut.Add(Normalize(t.Text));
        }
        return new SentimentDataSplits
        {
            Train = Distinct(train.Where(t => !heldOut.Contains(Normalize(t.Text)))),
            Dev = Distinct(dev.Where(t => !heldOut.Contains(Normalize(t.Text)))),
            Test = new Dictionary<string, IReadOnlyList<LabeledText>>(StringComparer.Ordinal)
            {
                [Clothing] = clothingTest,
                [FduMtl] = fduTest,
                [Uci] = uci,
            },
        };
    }

    /// <summary>The key under which two texts count as the same: whitespace runs collapsed, lowercased.</summary>
    public static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text.AsSpan().Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }
            if (space)
            {
                sb.Append(' ');
                space = false;
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    private static List<LabeledText> Distinct(IEnumerable<LabeledText> texts)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. texts.Where(t => seen.Add(Normalize(t.Text)))];
    }

    private static ulong HashOf(string key) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key), seed: 20261127);

    private static void LoadClothing(string path, List<LabeledText> train, List<LabeledText> dev, List<LabeledText> test)
    {
        using var reader = new StreamReader(RequireFile(path), Encoding.UTF8);
        using var rows = CsvReader.Read(reader).GetEnumerator();
        if (!rows.MoveNext())
        {
            throw new InvalidDataException($"{path}: empty file");
        }
        var header = rows.Current;
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new InvalidDataException($"{path}: no column '{name}'");
        var id = Column("Clothing ID");
        var title = Column("Title");
        var body = Column("Review Text");
        var rating = Column("Rating");
        var department = Column("Department Name");
        while (rows.MoveNext())
        {
            var row = rows.Current;
            if (row.Length < header.Length)
            {
                continue;
            }
            var text = JoinTitle(row[title], row[body]);
            if (text.Length == 0 || !int.TryParse(row[rating], NumberStyles.None, CultureInfo.InvariantCulture, out var stars) || stars is < 1 or > 5)
            {
                continue;
            }
            var item = LabeledText.FromStars(text, stars, Clothing, row[department].Length > 0 ? row[department] : "(none)");
            var bucket = HashOf("clothing-id:" + row[id]) % 10;
            (bucket < 2 ? test : bucket == 2 ? dev : train).Add(item);
        }
    }

    /// <summary>The title, if any, then the text, as one string: "Title. Text".</summary>
    public static string JoinTitle(string title, string body)
    {
        title = title.Trim();
        body = body.Trim();
        if (title.Length == 0)
        {
            return body;
        }
        if (body.Length == 0)
        {
            return title;
        }
        return char.IsPunctuation(title[^1]) ? $"{title} {body}" : $"{title}. {body}";
    }

    private static List<LabeledText> LoadFdu(string directory, List<LabeledText> train, List<LabeledText> dev)
    {
        var trainFiles = Directory.GetFiles(RequireDirectory(directory), "*.task.train").Order(StringComparer.Ordinal).ToList();
        if (trainFiles.Count == 0)
        {
            throw new InvalidDataException($"{directory}: no *.task.train files");
        }
        var trainTexts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in trainFiles)
        {
            var domain = Path.GetFileName(file)[..^".task.train".Length];
            foreach (var (text, positive) in ReadFdu(file))
            {
                var key = Normalize(text);
                if (!trainTexts.Add(key))
                {
                    continue;
                }
                var item = LabeledText.FromBinary(text, positive, FduMtl, domain);
                (HashOf("fdu:" + key) % 10 == 0 ? dev : train).Add(item);
            }
        }
        var test = new List<LabeledText>();
        var testTexts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(directory, "*.task.test").Order(StringComparer.Ordinal))
        {
            var domain = Path.GetFileName(file)[..^".task.test".Length];
            foreach (var (text, positive) in ReadFdu(file))
            {
                var key = Normalize(text);
                if (!trainTexts.Contains(key) && testTexts.Add(key))
                {
                    test.Add(LabeledText.FromBinary(text, positive, FduMtl, domain));
                }
            }
        }
        return test;
    }

    private static IEnumerable<(string Text, bool Positive)> ReadFdu(string file)
    {
        foreach (var line in File.ReadLines(file, Encoding.UTF8))
        {
            var tab = line.IndexOf('\t');
            if (tab <= 0 || line[..tab] is not ("0" or "1"))
            {
                continue;
            }
            var text = line[(tab + 1)..].Trim();
            if (text.Length > 0)
            {
                yield return (text, line[0] == '1');
            }
        }
    }

    private static List<LabeledText> LoadUci(string directory)
    {
        var result = new List<LabeledText>();
        foreach (var file in Directory.GetFiles(RequireDirectory(directory), "*_labelled.txt").Order(StringComparer.Ordinal))
        {
            var source = Path.GetFileName(file)[..^"_labelled.txt".Length];
            foreach (var line in File.ReadLines(file, Encoding.UTF8))
            {
                var tab = line.LastIndexOf('\t');
                if (tab <= 0)
                {
                    continue;
                }
                var label = line[(tab + 1)..].Trim();
                var text = line[..tab].Trim();
                if (text.Length > 0 && label is "0" or "1")
                {
                    result.Add(LabeledText.FromBinary(text, label == "1", Uci, source));
                }
            }
        }
        return result;
    }

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"training data file not found: {path}", path);

    private static string RequireDirectory(string path) =>
        Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"training data folder not found: {path}");
}
