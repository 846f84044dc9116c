using System.Runtime.CompilerServices;

namespace ReviewOrleans.Analytics.Forest;

/// <summary>
/// Time-decayed weighted reservoir sample of one tree, after the AWS Java core's <c>CompactSampler</c> and
/// <c>AbstractStreamSampler</c>: a point with sequence index i gets weight <c>-lambda·i + ln(-ln u)</c>, u uniform
/// in (0, 1), and the sample keeps the <see cref="Capacity"/> smallest weights in a max-heap. While the sample is
/// not full a point is admitted outright with probability <see cref="AcceptFraction"/> (the Java core's
/// <c>initialAcceptFraction</c> = 0.125 ramp), so that trees diverge from the first points on.
/// </summary>
/// <remarks>
/// Once the sample is full it changes only when a point beats the largest weight, and point i does so with
/// probability 1 − exp(−x_i), x_i = exp(maxW + lambda·i), independently of the others. So instead of a draw per
/// point, the sampler draws where the next admission falls (<see cref="NextAdmission"/>): the first n after which the
/// summed hazard x_a + … + x_(a+n−1), a geometric series, exceeds an Exp(1) draw. The admitted point then takes an
/// Exp(1) value conditioned below x (the same conditional law a per-point draw has given admission). Sample and
/// weights have the per-point law exactly; only the random stream differs. Rejecting a point is one comparison,
/// which the forest makes before calling <see cref="Accept"/>.
/// </remarks>
internal sealed class CompactSampler
{
    /// <summary>The Java core's <c>DEFAULT_INITIAL_ACCEPT_FRACTION</c>.</summary>
    public const double InitialAcceptFraction = 0.125;

    /// <summary><see cref="NextAdmission"/> while every point must be offered: filling, or not yet drawn.</summary>
    private const long Undrawn = long.MinValue;

    private readonly double[] _weight;
    private readonly int[] _leaf;
    private readonly double _timeDecay;
    private readonly double _decayPerStep; // exp(lambda) − 1, the geometric series' denominator
    private int _size;
    private double _pendingWeight; // weight of the point accepted last, until Add gives it a leaf
    private long _nextAdmission = Undrawn;

    public CompactSampler(int capacity, double timeDecay)
    {
        Capacity = capacity;
        _timeDecay = timeDecay;
        _decayPerStep = ExpMinusOne(timeDecay);
        _weight = new double[capacity];
        _leaf = new int[capacity];
    }

    public int Capacity { get; }

    /// <summary>Becomes an exact copy of <paramref name="source"/>, a sampler of the same capacity and decay.</summary>
    public void CopyFrom(CompactSampler source)
    {
        Array.Copy(source._weight, _weight, _weight.Length);
        Array.Copy(source._leaf, _leaf, _leaf.Length);
        _size = source._size;
        _pendingWeight = source._pendingWeight;
        _nextAdmission = source._nextAdmission;
        EvictedLeaf = source.EvictedLeaf;
    }

    public int Size => _size;

    /// <summary>
    /// Sequence index of the next point this full sample admits; points before it are rejected without a call to
    /// <see cref="Accept"/>. <see cref="long.MinValue"/> while every point must be offered.
    /// </summary>
    public long NextAdmission => _nextAdmission;

    /// <summary>Tree leaf evicted by the last accepted point, or -1.</summary>
    public int EvictedLeaf { get; private set; } = -1;

    /// <summary>
    /// Decides whether the point with sequence index <paramref name="sequence"/> enters the sample; sequences are
    /// offered in increasing order, each at most once, and every one at or after <see cref="NextAdmission"/>. On
    /// true the caller removes <see cref="EvictedLeaf"/> (if not -1) from the tree, inserts the point and calls
    /// <see cref="Add"/> with its leaf.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    public bool Accept(long sequence, ref SplitMix64 random)
    {
        EvictedLeaf = -1;
        if (_size == Capacity)
        {
            if (_nextAdmission == Undrawn)
            {
                DrawNextAdmission(sequence, ref random);
            }
            if (sequence < _nextAdmission)
            {
                return false;
            }
            // Admitted: -ln u conditioned below x, by inversion: E = -ln(1 - v·(1 - e^-x)), v uniform; for tiny x
            // that is v·x to within a factor 1 + x, taken in logarithms so that an underflowing x stays exact.
            var v = random.NextOpenDouble();
            var logX = _weight[0] + _timeDecay * sequence;
            var logExponential = logX < -23
                ? Math.Log(v) + logX
                : Math.Log(-LogOnePlus(v * ExpMinusOne(-Math.Exp(logX))));
            _pendingWeight = -(double)sequence * _timeDecay + logExponential;
            EvictedLeaf = _leaf[0];
            EvictMax();
            return true;
        }

        var u = random.NextOpenDouble();
        var initial = random.NextDouble() < AcceptFraction(_size);
        var weight = -(double)sequence * _timeDecay + Math.Log(-Math.Log(u));
        if (!initial)
        {
            if (_size == 0 || !(weight < _weight[0]))
            {
                return false;
            }
            EvictedLeaf = _leaf[0];
            EvictMax();
        }
        _pendingWeight = weight;
        return true;
    }

    /// <summary>
    /// Draws <see cref="NextAdmission"/> for a full sample from sequence <paramref name="first"/> on: the least n ≥ 1
    /// with x_first·(e^(lambda·n) − 1)/(e^lambda − 1) ≥ E, E ~ Exp(1), so that n = ⌈ln(1 + E·(e^lambda − 1)/x_first)/lambda⌉
    /// (⌈E/x_first⌉ without decay). Each step's admission probability grows with the decay, so the draw is exact
    /// for any lambda, subnormal included.
    /// </summary>
    private void DrawNextAdmission(long first, ref SplitMix64 random)
    {
        // In logarithms: x_first or e^lambda − 1 may be far below the smallest double while their ratio is not.
        var logMean = Math.Log(-Math.Log(random.NextOpenDouble())) - (_weight[0] + _timeDecay * first); // ln(E/x_first)
        double steps;
        if (_timeDecay == 0)
        {
            steps = Math.Exp(logMean);
        }
        else
        {
            var logRatio = logMean + Math.Log(_decayPerStep); // ln y, y = E·(e^lambda − 1)/x_first
            steps = logRatio > 700 ? logRatio / _timeDecay // ln(1 + y) = ln y to double precision
                : logRatio < -23 ? Math.Exp(logMean) * (_decayPerStep / _timeDecay) // ln(1 + y) = y·(1 − y/2 …)
                : LogOnePlus(Math.Exp(logRatio)) / _timeDecay;
        }
        // Beyond 2^62 points away the sample is, in practice, closed.
        _nextAdmission = steps < (double)(1L << 62) ? first + Math.Max(1L, (long)Math.Ceiling(steps)) - 1 : long.MaxValue;
    }

    /// <summary>
    /// e^x − 1 without the cancellation of <c>Math.Exp(x) - 1</c> for small x (.NET's <c>double.ExpM1</c> is that
    /// subtraction, 8e-8 off at 1e-10): Kahan's (u − 1)·x/ln u, u = e^x, whose rounding errors cancel.
    /// </summary>
    private static double ExpMinusOne(double x)
    {
        var u = Math.Exp(x);
        if (u == 1 || double.IsPositiveInfinity(u))
        {
            return u == 1 ? x : u;
        }
        var uMinusOne = u - 1;
        return uMinusOne == -1 ? -1 : uMinusOne * x / Math.Log(u);
    }

    /// <summary>
    /// ln(1 + y) accurate for small y (Goldberg 1991, theorem 4); .NET's <c>double.LogP1</c> is Log(1 + y), with the
    /// same loss. y/(u − 1) first, so that a y near the largest double does not overflow.
    /// </summary>
    private static double LogOnePlus(double y)
    {
        var u = 1 + y;
        return u == 1 ? y : Math.Log(u) * (y / (u - 1));
    }

    /// <summary>Completes an accepted point with the tree leaf that now holds it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(int leaf)
    {
        var current = _size++;
        _weight[current] = _pendingWeight;
        _leaf[current] = leaf;
        while (current > 0)
        {
            var parent = (current - 1) >> 1;
            if (_weight[parent] >= _weight[current])
            {
                break;
            }
            Swap(current, parent);
            current = parent;
        }
        // The largest weight may have changed: the next admission is drawn afresh when the next point is offered.
        _nextAdmission = Undrawn;
    }

    /// <summary>Admission probability of a point while the sample holds <paramref name="size"/> points.</summary>
    internal double AcceptFraction(int size)
    {
        if (size < InitialAcceptFraction * Capacity)
        {
            return 1.0;
        }
        return 1 - ((double)size / Capacity - InitialAcceptFraction) / (1 - InitialAcceptFraction);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EvictMax()
    {
        _size--;
        _weight[0] = _weight[_size];
        _leaf[0] = _leaf[_size];
        var current = 0;
        while (true)
        {
            var child = 2 * current + 1;
            if (child >= _size)
            {
                break;
            }
            if (child + 1 < _size && _weight[child + 1] > _weight[child])
            {
                child++;
            }
            if (_weight[child] <= _weight[current])
            {
                break;
            }
            Swap(current, child);
            current = child;
        }
    }

    private void Swap(int a, int b)
    {
        (_weight[a], _weight[b]) = (_weight[b], _weight[a]);
        (_leaf[a], _leaf[b]) = (_leaf[b], _leaf[a]);
    }

    /// <summary>Weights of the sampled points in heap order (the largest first).</summary>
    internal ReadOnlySpan<double> Weights => _weight.AsSpan(0, _size);

    /// <summary>Tree leaves of the sampled points, one entry per point.</summary>
    internal ReadOnlySpan<int> Leaves => _leaf.AsSpan(0, _size);

    internal void Write(ref StateWriter writer)
    {
        writer.WriteInt32(_size);
        for (var i = 0; i < _size; i++)
        {
            writer.WriteDouble(_weight[i]);
            writer.WriteUInt16((ushort)_leaf[i]);
        }
        writer.WriteInt64(_nextAdmission);
    }

    /// <param name="withAdmission">Whether the state records <see cref="NextAdmission"/> (forest state version 2 on);
    /// without it the next admission is drawn when the next point is offered.</param>
    /// <param name="nextSequence">The sequence index the forest offers next: an admission due before it was missed.</param>
    internal void Read(ref StateReader reader, bool withAdmission, long nextSequence)
    {
        _size = reader.ReadInt32(0, Capacity, "sampler size");
        for (var i = 0; i < _size; i++)
        {
            _weight[i] = reader.ReadFiniteDouble("sample weight");
            _leaf[i] = reader.ReadUInt16(Capacity - 1, "sampled leaf");
        }
        for (var i = 1; i < _size; i++)
        {
            if (_weight[(i - 1) >> 1] < _weight[i])
            {
                throw StateReader.Corrupt("sampler heap order is violated");
            }
        }
        _nextAdmission = withAdmission ? reader.ReadInt64() : Undrawn;
        if (_nextAdmission != Undrawn && (_size < Capacity || _nextAdmission < 0))
        {
            throw StateReader.Corrupt("sampler's next admission is set for a sample that is not full, or is negative");
        }
        if (_nextAdmission != Undrawn && _nextAdmission < nextSequence)
        {
            throw StateReader.Corrupt("a sampler was due to admit a point the forest has already passed");
        }
    }
}
