using ReviewOrleans.Analytics.Forest;

namespace ReviewOrleans.Analytics.Tests.Forest;

public sealed class AnomalyGraderTests
{
    [Fact]
    public void Process_ConstantScores_NeverAlarms()
    {
        var grader = new AnomalyGrader();
        for (var i = 0; i < 5_000; i++)
        {
            Assert.False(grader.Process(3.0).IsAnomaly);
        }
    }

    [Fact]
    public void Process_ForestOnConstantData_NoAlarmAtAll()
    {
        // Constant data makes every tree one duplicate leaf, so the forest scores a constant 0.5 once warm.
        var forest = new RandomCutForest(new RandomCutForestOptions { NumberOfTrees = 50 });
        var grader = new AnomalyGrader();
        for (var i = 0; i < 3_000; i++)
        {
            var grade = grader.Process(forest.ScoreAndUpdate([5.0]));
            Assert.Equal(0, grade.Grade);
        }
        Assert.Equal(3_000 - 64, grader.ScoresSeen);
    }

    [Fact]
    public void Process_ForestScoresOfLevelShiftInSineSeries_RaisesExactlyOneAlarm()
    {
        var forest = new RandomCutForest(new RandomCutForestOptions { NumberOfTrees = 50, Seed = 42 });
        var grader = new AnomalyGrader();
        var random = new Random(11);
        var alarmsBefore = 0;
        var alarmsAfter = new List<int>();
        for (var t = 0; t < 6_000; t++)
        {
            var level = t < 3_000 ? 10.0 : 30.0;
            var value = level + 5 * Math.Sin(2 * Math.PI * t / 50.0) + Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) * 0.5;
            var grade = grader.Process(forest.ScoreAndUpdate([value]));
            if (grade.IsAnomaly)
            {
                if (t < 3_000)
                {
                    alarmsBefore++;
                }
                else
                {
                    alarmsAfter.Add(t);
                }
            }
        }
        // Before the shift only tail events of the noise may alarm: at most 0.5% of rows (6 measured with seed 11).
        Assert.True(alarmsBefore <= 15, $"{alarmsBefore} alarms before the shift");
        Assert.True(alarmsAfter.Count == 1, $"alarms after the shift at rows {string.Join(", ", alarmsAfter)}");
        var alarm = alarmsAfter[0];
        Assert.InRange(alarm, 3_000, 3_010);
    }

    [Fact]
    public void Process_SpikeAfterWarmUp_GradesItAndReportsThreshold()
    {
        var grader = new AnomalyGrader();
        var random = new Random(5);
        for (var i = 0; i < 500; i++)
        {
            Assert.False(grader.Process(0.8 + 0.05 * random.NextDouble()).IsAnomaly);
        }
        var spike = grader.Process(5.0);
        Assert.True(spike.IsAnomaly);
        Assert.InRange(spike.Grade, 0.999, 1.0);
        Assert.Equal(2.0, spike.Threshold); // the lower threshold: mean + 3σ of these scores is about 1.0
        Assert.Equal(5.0, spike.Score);
    }

    [Fact]
    public void Process_ZeroScoresOfWarmUp_AreNotLearned()
    {
        var grader = new AnomalyGrader();
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(0, grader.Process(0).Grade);
        }
        Assert.Equal(0, grader.ScoresSeen);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-1.0)]
    public void Process_InvalidScore_Throws(double score)
    {
        var ex = Assert.Throws<ArgumentException>(() => new AnomalyGrader().Process(score));
        Assert.Equal("score", ex.ParamName);
    }

    [Fact]
    public void Constructor_BadOption_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => new AnomalyGrader(new AnomalyGraderOptions { Horizon = 1 }));
        Assert.Equal(nameof(AnomalyGraderOptions.Horizon), ex.ParamName);
    }

    [Fact]
    public void ToBytes_MidEpisode_RoundTripsAndContinuesIdentically()
    {
        var options = new AnomalyGraderOptions { ZFactor = 3, QuietPeriod = 5 };
        var a = new AnomalyGrader(options);
        var random = new Random(9);
        for (var i = 0; i < 300; i++)
        {
            a.Process(0.8 + 0.1 * random.NextDouble());
        }
        a.Process(6.0); // start an episode
        var bytes = a.ToBytes();
        var b = AnomalyGrader.FromBytes(bytes);
        Assert.Equal(bytes, b.ToBytes());
        Assert.Equal(options, b.Options);
        for (var i = 0; i < 200; i++)
        {
            var score = i % 37 == 0 ? 6.0 : 0.8 + 0.1 * random.NextDouble();
            Assert.Equal(a.Process(score), b.Process(score));
        }
        var badVersion = (byte[])bytes.Clone();
        badVersion[4] = 2;
        Assert.Contains("version 2", Assert.Throws<ArgumentException>(() => AnomalyGrader.FromBytes(badVersion)).Message);
    }
}
