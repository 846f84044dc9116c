using System.Runtime.CompilerServices;

namespace ReviewOrleans.Analytics.Forest;

/// <summary>
/// Time-decayed weighted reservoir sample of one tree, after the AWS Java core's <c>CompactSampler</c> and
/// <c>AbstractStreamSampler</c>: a point with sequence index i gets weight <c>-lambda·i + ln(-ln u)</c>, u uniform
/// in (0, 1), and the sample keeps the <see cref="Capacity"/> smallest weights in a max-heap. While the sample is
/// not full a point is admitted outright with probability <see cref="AcceptFraction"/> (the Java core's
/// <c>initialAcceptFraction</c> = 0.125 ramp), so that trees diverge from the first points on.
/// </summary>
internal sealed class CompactSampler
{
    /// <summary>The Java core's <c>DEFAULT_INITIAL_ACCEPT_FRACTION</c>.</summary>
    public const double InitialAcceptFraction = 0.125;

    private readonly double[] _weight;
    private readonly int[] _leaf;
    private readonly double _timeDecay;
    private int _size;
    private double _pendingWeight; // weight of the point accepted last, until Add gives it a leaf

    // exp(maxWeight + lambda·referenceSequence), cached so that rejecting a point (the common case once the sample
    // is full) costs one multiply instead of two logarithms.
    private double _acceptScale;
    private long _acceptScaleReference = long.MinValue;

    public CompactSampler(int capacity, double timeDecay)
    {
        Capacity = capacity;
        _timeDecay = timeDecay;
        _weight = new double[capacity];
        _leaf = new int[capacity];
    }

    public int Capacity { get; }

    public int Size => _size;

    /// <summary>Tree leaf evicted by the last accepted point, or -1.</summary>
    public int EvictedLeaf { get; private set; } = -1;

    /// <summary>
    /// Decides whether the point with sequence index <paramref name="sequence"/> enters the sample. On true the
    /// caller removes <see cref="EvictedLeaf"/> (if not -1) from the tree, inserts the point and calls
    /// <see cref="Add"/> with its leaf.
    /// </summary>
    /// <param name="decayFromReference"><c>exp(lambda·(sequence - reference))</c>, shared by all trees.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    public bool Accept(long sequence, long reference, double decayFromReference, ref SplitMix64 random)
    {
        EvictedLeaf = -1;
        var u = random.NextOpenDouble();
        var initial = false;
        if (_size < Capacity)
        {
            initial = random.NextDouble() < AcceptFraction(_size);
        }
        if (!initial)
        {
            if (_size == 0)
            {
                return false;
            }
            // w < maxW  <=>  -ln u < exp(maxW + lambda·sequence) =: x  <=>  u > exp(-x), and exp(-x) >= 1 - x.
            if (_acceptScaleReference != reference)
            {
                _acceptScale = Math.Exp(_weight[0] + _timeDecay * reference);
                _acceptScaleReference = reference;
            }
            var x = _acceptScale * decayFromReference;
            if (u <= 1 - x)
            {
                return false;
            }
        }
        var weight = -(double)sequence * _timeDecay + Math.Log(-Math.Log(u));
        if (!initial)
        {
            if (!(weight < _weight[0]))
            {
                return false;
            }
            EvictedLeaf = _leaf[0];
            EvictMax();
        }
        _pendingWeight = weight;
        return true;
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
        if (current == 0)
        {
            _acceptScaleReference = long.MinValue;
        }
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
        _acceptScaleReference = long.MinValue;
    }

    private void Swap(int a, int b)
    {
        (_weight[a], _weight[b]) = (_weight[b], _weight[a]);
        (_leaf[a], _leaf[b]) = (_leaf[b], _leaf[a]);
    }

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
    }

    internal void Read(ref StateReader reader)
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
        _acceptScaleReference = long.MinValue;
    }
}
