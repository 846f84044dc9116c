using System.Text.Json.Nodes;
using ReviewOrleans.Sentiment.Training;

namespace ReviewOrleans.Sentiment.Evaluation;

/// <summary>
/// Accumulates evaluation metrics for one dataset or category. Star-labelled texts feed the 5-class metrics
/// (accuracy, macro-F1, MAE, confusion matrix); every text with a polarity (≥4 or ≤2 stars, or a binary label)
/// feeds the binary accuracy, where the prediction is positive when p(4)+p(5) ≥ p(1)+p(2).
/// </summary>
internal sealed class SentimentMetrics
{
    private readonly long[,] _confusion = new long[5, 5];
    private long _starCount;
    private long _starCorrect;
    private double _absErrorArgmax;
    private double _absErrorExpected;
    private long _binaryCount;
    private long _binaryCorrect;

    public long Count { get; private set; }

    public void Add(in LabeledText truth, in SentimentResult result)
    {
        Count++;
        if (truth.Stars > 0)
        {
            var predicted = result.PredictedStars;
            _starCount++;
            _confusion[truth.Stars - 1, predicted - 1]++;
            if (predicted == truth.Stars)
            {
                _starCorrect++;
            }
            _absErrorArgmax += Math.Abs(predicted - truth.Stars);
            _absErrorExpected += Math.Abs(result.ExpectedStars - truth.Stars);
        }
        if (truth.Positive is bool positive)
        {
            _binaryCount++;
            if (result.IsPositive == positive)
            {
                _binaryCorrect++;
            }
        }
    }

    public long StarCount => _starCount;
    public long BinaryCount => _binaryCount;
    public double Accuracy => _starCount == 0 ? double.NaN : (double)_starCorrect / _starCount;
    public double MaeArgmax => _starCount == 0 ? double.NaN : _absErrorArgmax / _starCount;
    public double MaeExpected => _starCount == 0 ? double.NaN : _absErrorExpected / _starCount;
    public double BinaryAccuracy => _binaryCount == 0 ? double.NaN : (double)_binaryCorrect / _binaryCount;

    /// <summary>Unweighted mean of the per-class F1 over the star classes that occur in the truth or the predictions.</summary>
    public double MacroF1
    {
        get
        {
            if (_starCount == 0)
            {
                return double.NaN;
            }
            double sum = 0;
            var classes = 0;
            for (var k = 0; k < 5; k++)
            {
                long tp = _confusion[k, k], truthK = 0, predK = 0;
                for (var j = 0; j < 5; j++)
                {
                    truthK += _confusion[k, j];
                    predK += _confusion[j, k];
                }
                if (truthK == 0 && predK == 0)
                {
                    continue;
                }
                classes++;
                sum += truthK + predK == 0 ? 0 : 2.0 * tp / (truthK + predK);
            }
            return sum / classes;
        }
    }

    /// <summary>Confusion counts: row = true stars − 1, column = predicted stars − 1.</summary>
    public long Confusion(int trueStars, int predictedStars) => _confusion[trueStars - 1, predictedStars - 1];

    public JsonObject ToJson()
    {
        var json = new JsonObject { ["count"] = Count };
        if (_starCount > 0)
        {
            json["starCount"] = _starCount;
            json["accuracy"] = Math.Round(Accuracy, 4);
            json["macroF1"] = Math.Round(MacroF1, 4);
            json["maeArgmax"] = Math.Round(MaeArgmax, 4);
            json["maeExpected"] = Math.Round(MaeExpected, 4);
            var rows = new JsonArray();
            for (var t = 0; t < 5; t++)
            {
                var row = new JsonArray();
                for (var p = 0; p < 5; p++)
                {
                    row.Add(_confusion[t, p]);
                }
                rows.Add(row);
            }
            json["confusion"] = rows;
        }
        if (_binaryCount > 0)
        {
            json["binaryCount"] = _binaryCount;
            json["binaryAccuracy"] = Math.Round(BinaryAccuracy, 4);
        }
        return json;
    }
}
