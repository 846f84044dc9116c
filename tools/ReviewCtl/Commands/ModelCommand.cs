using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Text.Json;
using System.Text.Json.Nodes;
using ReviewOrleans.Sentiment;
using ReviewOrleans.Sentiment.Evaluation;
using ReviewOrleans.Sentiment.FastText;
using ReviewOrleans.Sentiment.Lexicon;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.ReviewCtl.Commands;

/// <summary><c>reviewctl model train|eval</c>: trains the default sentiment model and evaluates any model.</summary>
internal static class ModelCommand
{
    public const string Usage =
        "usage: reviewctl model train [--data DIR] [--out DIR] [--seed N] [--epochs N] [--lr X] [--dim N] [--buckets N] [--max-words N] [--ensemble K] [--negation-scope N] [--pooling mean|sqrt] [--lexicon vader|afinn-165|none] [--dropout P] [--adagrad] [--dev-only [--train-datasets NAME,...]] [--include-dev] [--json]\n" +
        "       reviewctl model eval [FILE...] [--builtin] [--model PATH] [--data DIR] [--no-lexicon (no AFINN baseline)] [--categories] [--json]";

    public static Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return Task.FromResult(args.Length == 0 ? 2 : 0);
        }
        try
        {
            return args[0] switch
            {
                "train" => Task.FromResult(Train(new CommandLine(args[1..], "dev-only", "adagrad", "include-dev"))),
                "eval" => Task.FromResult(Eval(new CommandLine(args[1..], "builtin", "no-lexicon", "categories"))),
                _ => throw new CommandLineException($"unknown subcommand '{args[0]}'\n{Usage}"),
            };
        }
        catch (SentimentModelException ex)
        {
            Console.Error.WriteLine($"reviewctl model {args[0]}: {ex.Message}");
            return Task.FromResult(1);
        }
    }

    private static string? FindData(CommandLine cl)
    {
        var explicitDir = cl.String("data");
        if (explicitDir is not null)
        {
            return Directory.Exists(explicitDir) ? Path.GetFullPath(explicitDir) : null;
        }
        return SharedDataLocator.Find(Environment.CurrentDirectory) ?? SharedDataLocator.Find();
    }

    private static int Train(CommandLine cl)
    {
        var defaults = new FastTextTrainingOptions();
        var options = new FastTextTrainingOptions
        {
            Seed = cl.Int("seed", defaults.Seed),
            Epochs = cl.Int("epochs", defaults.Epochs),
            LearningRate = (float)cl.Double("lr", defaults.LearningRate),
            Dim = cl.Int("dim", defaults.Dim),
            Buckets = cl.Int("buckets", defaults.Buckets),
            MaxWords = cl.Int("max-words", defaults.MaxWords),
            NegationScope = cl.Int("negation-scope", defaults.NegationScope),
            Pooling = cl.String("pooling", defaults.Pooling),
            Lexicon = cl.String("lexicon", defaults.Lexicon),
            FeatureDropout = (float)cl.Double("dropout", defaults.FeatureDropout),
            RowAdaGrad = cl.Flag("adagrad") || defaults.RowAdaGrad,
        };
        var outDir = Path.GetFullPath(cl.String("out", DefaultSentimentModel.RelativeDirectory));
        var json = cl.Json;
        var dataDir = FindData(cl);
        var devOnly = cl.Flag("dev-only");
        var ensemble = cl.Int("ensemble", 1);
        var includeDev = cl.Flag("include-dev");
        var trainDatasets = cl.String("train-datasets")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        cl.RejectUnknownOptions();
        if (trainDatasets is { Length: 0 })
        {
            throw new CommandLineException("--train-datasets needs at least one dataset name");
        }
        if (trainDatasets is not null && !devOnly)
        {
            // A cross-domain check: the dev line then shows how the other datasets fare on text unlike the training.
            throw new CommandLineException("--train-datasets is a cross-domain check and needs --dev-only");
        }
        if (includeDev && devOnly)
        {
            throw new CommandLineException("--include-dev trains on the dev split, so it cannot be combined with --dev-only");
        }
        if (options.Epochs < 1 || options.Dim < 1 || options.Buckets < 1 || options.MaxWords < 1 || options.LearningRate <= 0)
        {
            throw new CommandLineException("--epochs, --dim, --buckets, --max-words and --lr must be positive");
        }
        // Checked before training: a model written with settings its scorer refuses would replace a good one.
        if (options.MaxWords > HashedNgramOptions.MaxWordsLimit)
        {
            throw new CommandLineException($"--max-words must be at most {HashedNgramOptions.MaxWordsLimit}");
        }
        if (options.Pooling is not ("mean" or "sqrt"))
        {
            throw new CommandLineException($"--pooling must be mean or sqrt, got '{options.Pooling}'");
        }
        if (!HashedNgramOptions.KnownLexicons.Contains(options.Lexicon))
        {
            throw new CommandLineException($"--lexicon must be one of {string.Join(", ", HashedNgramOptions.KnownLexicons)}, got '{options.Lexicon}'");
        }
        if (options.NegationScope < 0 || options.FeatureDropout is < 0 or >= 1 || ensemble < 1)
        {
            throw new CommandLineException("--negation-scope must not be negative, --dropout must be in [0, 1) and --ensemble at least 1");
        }
        if (dataDir is null)
        {
            Console.Error.WriteLine("reviewctl model train: training data not found: expected shared/data beside the repository " +
                "(e.g. /work/shared/data for /work/main), or pass --data DIR. Nothing was trained.");
            return 1;
        }
        var log = json ? Console.Error : Console.Out;
        var clock = Stopwatch.StartNew();
        var splits = SentimentDataSplits.Load(dataDir);
        log.WriteLine($"data {dataDir}: train {splits.Train.Count}, dev {splits.Dev.Count}, test " +
            string.Join(", ", splits.Test.Select(t => $"{t.Key} {t.Value.Count}")));

        var trainer = new FastTextTrainer(options);
        var devFeatures = trainer.Featurize(splits.Dev);
        // --include-dev: once the hyper-parameters were chosen on dev, the final model also learns from dev (the
        // dev line printed after each epoch is then no longer held out; the test splits still are).
        IReadOnlyList<LabeledText> trainTexts = includeDev ? [.. splits.Train, .. splits.Dev] : splits.Train;
        if (trainDatasets is not null)
        {
            var unknown = trainDatasets.Except(splits.Train.Select(t => t.Dataset)).ToArray();
            if (unknown.Length > 0)
            {
                throw new CommandLineException($"--train-datasets: no training data named {string.Join(", ", unknown)}; the datasets are " +
                    string.Join(", ", splits.Train.Select(t => t.Dataset).Distinct()));
            }
            trainTexts = [.. trainTexts.Where(t => trainDatasets.Contains(t.Dataset))];
            log.WriteLine($"training on {string.Join(", ", trainDatasets)} only: {trainTexts.Count} texts");
        }
        var trainFeatures = trainer.Featurize(trainTexts);
        var trainMasks = trainTexts.Select(t => t.TargetMask).ToArray();
        var members = new List<FastTextModel>();
        for (var member = 0; member < ensemble; member++)
        {
            var memberTrainer = new FastTextTrainer(options with { Seed = options.Seed + member });
            members.Add(memberTrainer.Train(trainFeatures, trainMasks, (epoch, m) =>
            {
                if (epoch == options.Epochs || !json)
                {
                    log.WriteLine($"member {member + 1}/{ensemble} epoch {epoch,2}: dev {DevSummary(m, options.TokenizerOptions, splits.Dev, devFeatures)}  ({clock.Elapsed.TotalSeconds:0.0} s)");
                }
            }));
        }
        var model = FastTextModel.Concatenate(members);
        if (ensemble > 1)
        {
            log.WriteLine($"ensemble of {ensemble}: dev {DevSummary(model, options.TokenizerOptions, splits.Dev, devFeatures)}");
        }
        var trainSeconds = clock.Elapsed.TotalSeconds;
        if (devOnly)
        {
            return 0;
        }

        Directory.CreateDirectory(outDir);
        var onnx = model.ToOnnx();
        var onnxPath = Path.Combine(outDir, "model.onnx");
        File.WriteAllBytes(onnxPath, onnx);
        var training = options.ToJson();
        training["data"] = new JsonArray(
            "womens-clothing (Kaggle Women's E-Commerce Clothing Reviews, CC0): 5-star labels, split by Clothing ID",
            "fdu-mtl (Liu, Qiu & Huang 2017, from Blitzer et al. 2007 Amazon reviews; research benchmark, no licence stated): binary labels as partial star labels",
            "uci-sentences (Kotzias et al. 2015, CC BY 4.0): held out as out-of-domain, never trained on");
        training["trainCount"] = trainTexts.Count;
        training["devCount"] = splits.Dev.Count;
        training["devIncludedInTraining"] = includeDev;
        training["trainSeconds"] = Math.Round(trainSeconds, 1);
        var manifest = new SentimentModelManifest
        {
            Id = "sentiment-fast",
            Version = "1.0+" + XxHash64.HashToUInt64(onnx).ToString("x16", CultureInfo.InvariantCulture)[..8],
            Kind = SentimentModelInfo.FastTextKind,
            ModelFile = "model.onnx",
            StarsByOutputIndex = [1, 2, 3, 4, 5],
            Id2Label = SentimentModelManifest.DefaultId2Label(),
            OutputName = FastTextModel.ProbabilitiesOutput,
            MaxTokens = options.MaxWords,
            Tokenizer = options.TokenizerOptions.ToJson(),
            Training = training,
        };
        var manifestPath = Path.Combine(outDir, "model.json");
        manifest.Save(manifestPath);

        // Measure through ONNX Runtime, exactly as a user of the committed files would.
        using var scorer = SentimentScorerFactory.Load(manifestPath);
        using var lexicon = new AfinnLexiconScorer();
        var evaluations = EvaluateBuiltin(splits, [scorer, lexicon]);
        var metrics = new JsonObject();
        foreach (var e in evaluations.Where(e => e.Scorer == scorer.Model.Id))
        {
            metrics[e.Dataset] = Headline(e);
        }
        metrics["note"] = "held-out test splits, measured by reviewctl model train through ONNX Runtime; MAE is argmax unless named maeExpected";
        manifest = new SentimentModelManifest
        {
            Id = manifest.Id, Version = manifest.Version, Kind = manifest.Kind, ModelFile = manifest.ModelFile,
            StarsByOutputIndex = manifest.StarsByOutputIndex, Id2Label = manifest.Id2Label, OutputName = manifest.OutputName,
            MaxTokens = manifest.MaxTokens, Tokenizer = manifest.Tokenizer, Training = training, Metrics = metrics,
        };
        manifest.Save(manifestPath);
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["model"] = manifestPath,
                ["version"] = manifest.Version,
                ["onnxBytes"] = onnx.Length,
                ["trainSeconds"] = Math.Round(trainSeconds, 1),
                ["evaluations"] = new JsonArray([.. evaluations.Select(e => (JsonNode)e.ToJson())]),
            }.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        else
        {
            Console.WriteLine($"wrote {onnxPath} ({onnx.Length / 1048576.0:0.0} MiB) and {manifestPath}, version {manifest.Version}, trained in {trainSeconds:0.0} s");
            ModelEvalTable.Print(evaluations, categories: false);
        }
        return 0;
    }

    private static JsonObject Headline(DatasetEvaluation e)
    {
        var m = e.Overall;
        var json = new JsonObject { ["count"] = m.Count };
        if (m.StarCount > 0)
        {
            json["accuracy"] = Math.Round(m.Accuracy, 4);
            json["macroF1"] = Math.Round(m.MacroF1, 4);
            json["maeArgmax"] = Math.Round(m.MaeArgmax, 4);
            json["maeExpected"] = Math.Round(m.MaeExpected, 4);
        }
        json["binaryAccuracy"] = Math.Round(m.BinaryAccuracy, 4);
        if (e.Dataset == SentimentDataSplits.FduMtl)
        {
            json["domainAverageBinaryAccuracy"] = Math.Round(e.CategoryAverageBinaryAccuracy, 4);
        }
        return json;
    }

    private static string DevSummary(FastTextModel model, HashedNgramOptions options, IReadOnlyList<LabeledText> dev, long[][] features)
    {
        var clothing = new SentimentMetrics();
        var fdu = new SentimentMetrics();
        var info = new SentimentModelInfo("dev", "dev", SentimentModelInfo.FastTextKind);
        Span<float> p = stackalloc float[5];
        for (var i = 0; i < dev.Count; i++)
        {
            model.Predict(features[i], options.FeatureWeight(features[i].Length), p);
            (dev[i].Dataset == SentimentDataSplits.Clothing ? clothing : fdu).Add(dev[i], new SentimentResult(p, info));
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"fdu binary {fdu.BinaryAccuracy:P1}; clothing acc {clothing.Accuracy:P1}, MAE {clothing.MaeArgmax:0.000} (expected {clothing.MaeExpected:0.000}), binary {clothing.BinaryAccuracy:P1}");
    }

    private static List<DatasetEvaluation> EvaluateBuiltin(SentimentDataSplits splits, IReadOnlyList<ISentimentScorer> scorers)
    {
        var result = new List<DatasetEvaluation>();
        foreach (var (dataset, texts) in splits.Test)
        {
            foreach (var scorer in scorers)
            {
                result.Add(SentimentEvaluator.Evaluate(scorer, dataset, texts));
            }
        }
        return result;
    }

    private static int Eval(CommandLine cl)
    {
        var builtin = cl.Flag("builtin");
        var noLexicon = cl.Flag("no-lexicon");
        var categories = cl.Flag("categories");
        var modelPath = cl.String("model");
        var json = cl.Json;
        var dataDir = builtin ? FindData(cl) : null;
        cl.RejectUnknownOptions();
        if (!builtin && cl.Positionals.Count == 0)
        {
            throw new CommandLineException($"name at least one labelled FILE, or --builtin for the held-out splits of shared/data\n{Usage}");
        }
        if (builtin && dataDir is null)
        {
            Console.Error.WriteLine("reviewctl model eval: --builtin needs shared/data beside the repository, or --data DIR; it was not found.");
            return 1;
        }
        using var scorer = modelPath is null ? DefaultSentimentModel.Load() : SentimentScorerFactory.Load(modelPath);
        using var lexicon = new AfinnLexiconScorer();
        List<ISentimentScorer> scorers = noLexicon ? [scorer] : [scorer, lexicon];
        var evaluations = new List<DatasetEvaluation>();
        if (builtin)
        {
            evaluations.AddRange(EvaluateBuiltin(SentimentDataSplits.Load(dataDir!), scorers));
        }
        foreach (var file in cl.Positionals)
        {
            List<LabeledText> texts;
            int skipped;
            try
            {
                (texts, skipped) = LabeledReviewFile.Read(file);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                throw new CommandLineException(ex.Message);
            }
            if (skipped > 0)
            {
                Console.Error.WriteLine($"{file}: skipped {skipped} rows without a 1–5 star_rating or text");
            }
            foreach (var s in scorers)
            {
                evaluations.Add(SentimentEvaluator.Evaluate(s, Path.GetFileName(file), texts));
            }
        }
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["model"] = new JsonObject { ["id"] = scorer.Model.Id, ["version"] = scorer.Model.Version, ["kind"] = scorer.Model.Kind, ["manifest"] = scorer.Model.ManifestPath },
                ["evaluations"] = new JsonArray([.. evaluations.Select(e => (JsonNode)e.ToJson())]),
            }.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        else
        {
            Console.WriteLine($"model {scorer.Model.Id} {scorer.Model.Version} ({scorer.Model.Kind}) from {scorer.Model.ManifestPath}");
            ModelEvalTable.Print(evaluations, categories);
        }
        return 0;
    }
}
