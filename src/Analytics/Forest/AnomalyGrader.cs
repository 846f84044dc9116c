namespace ReviewOrleans.Analytics.Forest;

/// <summary>Verdict on one score: the grade in [0, 1] (0 = normal) and the threshold it was judged against.</summary>
/// <param name="Score">The anomaly score that was graded.</param>
/// <param name="Grade">0 for normal or suppressed points; in (0, 1] for the first point of an alarm episode.</param>
/// <param name="Threshold">The score above which an alarm would start at this point.</param>
public readonly record struct AnomalyGrade(double Score, double Grade, double Threshold)
{
    /// <summary>Whether this point starts an alarm.</summary>
    public bool IsAnomaly => Grade > 0;
}

/// <summary>Parameters of an <see cref="AnomalyGrader"/>; defaults follow the AWS Java library's <c>BasicThresholder</c>.</summary>
public sealed record AnomalyGraderOptions
{
    /// <summary>
    /// Deviations above the running mean at which an alarm starts. Default 3.0 (<c>BasicThresholder</c> uses 2.5 on
    /// its own score transform; on raw RCF scores, whose right tail is heavy, 3.0 gave fewer false alarms).
    /// </summary>
    public double ZFactor { get; init; } = 3.0;

    /// <summary>
    /// Scores at or below this never alarm, whatever the statistics say. Default 2.0: normal RCF scores lie at
    /// 0.7–1.0 and reach 2 only in their top 0.1–1% tail (measured on sine and on pure Gaussian-noise streams with
    /// 256 samples per tree), while clear anomalies score 3–6.
    /// </summary>
    public double LowerThreshold { get; init; } = 2.0;

    /// <summary>
    /// Effective number of recent scores in the running mean and deviation (exponential discount 1/horizon).
    /// Default 500: long enough that one burst of high scores does not swing the deviation.
    /// </summary>
    public int Horizon { get; init; } = 500;

    /// <summary>Non-zero scores needed before any alarm (<c>BasicThresholder</c>'s minimum scores, 10).</summary>
    public int MinimumScores { get; init; } = 10;

    /// <summary>
    /// Floor on the deviation, as a fraction of the running mean, so that nearly constant scores (deviation ≈ 0)
    /// do not turn every small wiggle into a maximum-grade alarm. Default 0.05.
    /// </summary>
    public double RelativeDeviationFloor { get; init; } = 0.05;

    /// <summary>
    /// Consecutive scores below the threshold that end an alarm episode. Until then later high scores (a level
    /// shift, the trailing edge of a burst) are suppressed, so one event gives one alarm. Default 32.
    /// </summary>
    public int QuietPeriod { get; init; } = 32;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range.</summary>
    public void Validate()
    {
        if (!double.IsFinite(ZFactor) || ZFactor <= 0)
        {
            throw new ArgumentException($"ZFactor must be a positive finite number (was {ZFactor}).", nameof(ZFactor));
        }
        if (!double.IsFinite(LowerThreshold) || LowerThreshold < 0)
        {
            throw new ArgumentException($"LowerThreshold must be a finite number >= 0 (was {LowerThreshold}).", nameof(LowerThreshold));
        }
        if (Horizon < 2)
        {
            throw new ArgumentException($"Horizon must be at least 2 (was {Horizon}).", nameof(Horizon));
        }
        if (MinimumScores < 1)
        {
            throw new ArgumentException($"MinimumScores must be at least 1 (was {MinimumScores}).", nameof(MinimumScores));
        }
        if (!double.IsFinite(RelativeDeviationFloor) || RelativeDeviationFloor < 0)
        {
            throw new ArgumentException($"RelativeDeviationFloor must be a finite number >= 0 (was {RelativeDeviationFloor}).", nameof(RelativeDeviationFloor));
        }
        if (QuietPeriod < 1)
        {
            throw new ArgumentException($"QuietPeriod must be at least 1 (was {QuietPeriod}).", nameof(QuietPeriod));
        }
    }
}

/// <summary>
/// Turns a stream of anomaly scores into grades without a fixed threshold, after the idea of the AWS Java
/// library's <c>BasicThresholder</c> and <c>PredictorCorrector</c> (random-cut-forest-by-aws 4.x, parkservices):
/// the threshold is <c>max(LowerThreshold, mean + ZFactor·deviation)</c> over exponentially discounted recent
/// scores; the grade of a point above it is <c>min(1, (score − threshold) / (ZFactor·deviation))</c>; and once an
/// alarm starts, further high scores are suppressed until <see cref="AnomalyGraderOptions.QuietPeriod"/> scores in
/// a row fall below the threshold. Scores of 0 (a forest that is not warm yet) are graded 0 and not learned.
/// </summary>
public sealed class AnomalyGrader
{
    private static ReadOnlySpan<byte> Magic => "AGR1"u8;

    /// <summary>Current saved-state format version.</summary>
    public const byte StateVersion = 1;

    private readonly double _discount;
    private long _count;
    private double _mean;
    private double _variance;
    private bool _inEpisode;
    private int _quiet;

    /// <summary>Creates a grader; null options mean the defaults.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public AnomalyGrader(AnomalyGraderOptions? options = null)
    {
        Options = options ?? new AnomalyGraderOptions();
        Options.Validate();
        _discount = 1.0 / Options.Horizon;
    }

    /// <summary>The grader's parameters.</summary>
    public AnomalyGraderOptions Options { get; }

    /// <summary>Non-zero scores learned so far.</summary>
    public long ScoresSeen => _count;

    /// <summary>Grades <paramref name="score"/> against the scores before it, then learns it.</summary>
    /// <exception cref="ArgumentException">The score is negative, NaN or infinite.</exception>
    public AnomalyGrade Process(double score)
    {
        if (!double.IsFinite(score) || score < 0)
        {
            throw new ArgumentException($"An anomaly score must be a finite number >= 0 (was {score}).", nameof(score));
        }
        var deviation = Math.Max(Math.Sqrt(_variance), Options.RelativeDeviationFloor * _mean);
        var threshold = Math.Max(Options.LowerThreshold, _mean + Options.ZFactor * deviation);
        if (score == 0)
        {
            return new AnomalyGrade(score, 0, threshold);
        }

        double grade = 0;
        if (score > threshold && _count >= Options.MinimumScores)
        {
            _quiet = 0;
            if (!_inEpisode)
            {
                _inEpisode = true;
                var span = Options.ZFactor * deviation;
                grade = span > 0 ? Math.Min(1.0, (score - threshold) / span) : 1.0;
                // A score a hair above the threshold is still an alarm; keep the grade strictly positive.
                grade = Math.Max(grade, double.Epsilon);
            }
        }
        else if (_inEpisode && ++_quiet >= Options.QuietPeriod)
        {
            _inEpisode = false;
            _quiet = 0;
        }

        Learn(score);
        return new AnomalyGrade(score, grade, threshold);
    }

    private void Learn(double score)
    {
        _count++;
        if (_count == 1)
        {
            _mean = score;
            _variance = 0;
            return;
        }
        // Exponentially weighted mean and variance (West 1979 form); the first scores get weight 1/count so the
        // statistics are not biased towards the starting value.
        var weight = Math.Max(_discount, 1.0 / _count);
        var delta = score - _mean;
        _mean += weight * delta;
        _variance = (1 - weight) * (_variance + weight * delta * delta);
    }

    /// <summary>Saves options and running statistics in a versioned little-endian format.</summary>
    public byte[] ToBytes()
    {
        var writer = new StateWriter(96);
        writer.WriteBytes(Magic);
        writer.WriteByte(StateVersion);
        writer.WriteDouble(Options.ZFactor);
        writer.WriteDouble(Options.LowerThreshold);
        writer.WriteInt32(Options.Horizon);
        writer.WriteInt32(Options.MinimumScores);
        writer.WriteDouble(Options.RelativeDeviationFloor);
        writer.WriteInt32(Options.QuietPeriod);
        writer.WriteInt64(_count);
        writer.WriteDouble(_mean);
        writer.WriteDouble(_variance);
        writer.WriteByte(_inEpisode ? (byte)1 : (byte)0);
        writer.WriteInt32(_quiet);
        return writer.ToArray();
    }

    /// <summary>Restores a grader saved by <see cref="ToBytes"/>.</summary>
    /// <exception cref="ArgumentException">The bytes are not a grader state, have another version, or are corrupt.</exception>
    public static AnomalyGrader FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new StateReader(bytes, nameof(AnomalyGrader));
        reader.ReadHeader(Magic, StateVersion);
        AnomalyGraderOptions options;
        try
        {
            options = new AnomalyGraderOptions
            {
                ZFactor = reader.ReadDouble(),
                LowerThreshold = reader.ReadDouble(),
                Horizon = reader.ReadInt32(),
                MinimumScores = reader.ReadInt32(),
                RelativeDeviationFloor = reader.ReadDouble(),
                QuietPeriod = reader.ReadInt32(),
            };
            options.Validate();
        }
        catch (ArgumentException ex) when (ex.ParamName != "bytes")
        {
            throw StateReader.Corrupt("saved options are invalid: " + ex.Message);
        }
        var grader = new AnomalyGrader(options)
        {
            _count = reader.ReadInt64(),
            _mean = reader.ReadDouble(),
            _variance = reader.ReadDouble(),
        };
        var flag = reader.ReadByte();
        grader._inEpisode = flag switch
        {
            0 => false,
            1 => true,
            _ => throw StateReader.Corrupt($"episode flag {flag} is not 0 or 1"),
        };
        grader._quiet = reader.ReadInt32(0, options.QuietPeriod, "quiet count");
        if (grader._count < 0 || !double.IsFinite(grader._mean) || !double.IsFinite(grader._variance) || grader._variance < 0)
        {
            throw StateReader.Corrupt("running statistics are invalid");
        }
        reader.EnsureEnd();
        return grader;
    }
}
