using ReviewOrleans.Analytics.Forest;

namespace ReviewOrleans.Analytics.Tests.Forest;

public sealed class CompactSamplerTests
{
    /// <summary>
    /// The skip-ahead sampler against the definition it replaces: from the same full sample, a per-point sampler that
    /// draws a weight −λ·i + ln(−ln u) for every point and keeps the smallest. Over many seeded runs the admissions
    /// per window and the largest weight at the end must agree in mean within 4 standard errors; a skip with the
    /// hazard that ignores the decay within a skip, a skip one point too long, or an admitted weight not
    /// conditioned below the largest, moves them by far more.
    /// </summary>
    [Theory]
    [InlineData(32, 1e-3)]
    [InlineData(32, 0.0)]
    [InlineData(4, 0.05)] // few samples and fast decay: skips span much of a decay time, so their hazard must grow
    [InlineData(32, 5e-324)] // subnormal decay: e^lambda − 1 and the hazard's products underflow unless kept in logs
    public void Admissions_SkipAhead_FollowPerPointLaw(int capacity, double timeDecay)
    {
        const int Window = 5_000, Runs = 400;
        var skip = new RunningMoments[2];
        var reference = new RunningMoments[2];
        for (var run = 0; run < Runs; run++)
        {
            var random = new SplitMix64((ulong)(1_000 + run));
            var sampler = new CompactSampler(capacity, timeDecay);
            long sequence = 0;
            for (; sampler.Size < capacity; sequence++)
            {
                if (sampler.Accept(sequence, ref random))
                {
                    sampler.Add((int)(sequence % capacity));
                }
            }
            var start = sequence;
            var heap = new PriorityQueue<double, double>(Comparer<double>.Create((a, b) => b.CompareTo(a)));
            foreach (var w in sampler.Weights)
            {
                heap.Enqueue(w, w);
            }

            var admitted = 0;
            for (; sequence < start + Window; sequence++)
            {
                if (sequence >= sampler.NextAdmission && sampler.Accept(sequence, ref random))
                {
                    Assert.True(sampler.EvictedLeaf >= 0);
                    sampler.Add(sampler.EvictedLeaf);
                    admitted++;
                }
            }
            skip[0].Add(admitted);
            skip[1].Add(sampler.Weights[0] + timeDecay * sequence);

            var perPoint = new Random(run);
            admitted = 0;
            for (var i = start; i < start + Window; i++)
            {
                var weight = -timeDecay * i + Math.Log(-Math.Log(1 - perPoint.NextDouble()));
                if (weight < heap.Peek())
                {
                    heap.DequeueEnqueue(weight, weight);
                    admitted++;
                }
            }
            reference[0].Add(admitted);
            reference[1].Add(heap.Peek() + timeDecay * (start + Window));
        }

        for (var m = 0; m < 2; m++)
        {
            var standardError = Math.Sqrt((skip[m].Variance + reference[m].Variance) / Runs);
            Assert.True(Math.Abs(skip[m].Mean - reference[m].Mean) < 4 * standardError,
                $"{(m == 0 ? "admissions" : "largest weight")}: skip-ahead mean {skip[m].Mean:R}, per point {reference[m].Mean:R}, standard error {standardError:R}");
        }
    }

    private struct RunningMoments
    {
        private double _sum, _squares;
        private int _count;

        public void Add(double x)
        {
            _sum += x;
            _squares += x * x;
            _count++;
        }

        public readonly double Mean => _sum / _count;

        public readonly double Variance => (_squares - _count * Mean * Mean) / (_count - 1);
    }
}
