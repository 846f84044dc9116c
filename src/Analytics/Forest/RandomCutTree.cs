using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReviewOrleans.Analytics.Forest;

/// <summary>
/// One random cut tree over at most <c>capacity</c> sampled points, stored as flat arrays (struct-of-arrays, no
/// per-point allocation) in the manner of the AWS Java core's <c>RandomCutTree</c> with its node store: internal
/// nodes are 0..capacity-2, leaves are referenced as capacity + slot, and every internal node caches its bounding
/// box (the Java core's <c>boundingBoxCacheFraction</c> = 1). Points are single precision, like the Java core's
/// point store.
/// </summary>
internal sealed partial class RandomCutTree
{
    private const int Null = -1;

    // Word offsets inside one internal node's record in the shared store.
    private const int LeftWord = 0;
    private const int RightWord = 1;
    private const int DimWord = 2;
    private const int CutWord = 3;
    private const int BoxWord = 4;

    private readonly int _dims;
    private readonly int _capacity;
    private readonly int[] _store; // internal nodes: left, right, dim, cut, dims minimums, dims maximums (floats as bits)
    private readonly int _base;
    private readonly int _stride;
    private readonly int _strideShift;
    private readonly int[] _nodeParent;
    private readonly int[] _nodeMass;
    private readonly float[] _leafPoint;
    private readonly int[] _leafMass;
    private readonly int[] _leafParent;
    private readonly int[] _freeNodes;
    private readonly int[] _freeLeaves;
    private int _freeNodeCount;
    private int _freeLeafCount;
    private int _root = Null;
    private int _mass;
    private double _normalizer;

    /// <summary>1/(k + 1) for depths k of the largest tree, the scoring functions' <c>scoreUnseen</c>.</summary>
    private static readonly double[] InverseDepth =
        Enumerable.Range(0, RandomCutForestOptions.MaxSampleSize + 1).Select(k => 1.0 / (k + 1)).ToArray();

    /// <summary>
    /// Words of one internal node record for <paramref name="dims"/> dimensions, rounded up to a power of two so
    /// that a record never straddles more cache lines than it must and its address is a shift, not a multiply,
    /// on the descent's critical path.
    /// </summary>
    public static int NodeStride(int dims) => (int)BitOperations.RoundUpToPowerOf2((uint)(BoxWord + 2 * dims));

    /// <param name="store">
    /// Node records of all trees of a forest, so that one cache-friendly array holds every cut and box; this tree
    /// owns capacity − 1 records from <paramref name="baseOffset"/>.
    /// </param>
    public RandomCutTree(int dims, int capacity, int[] store, int baseOffset)
    {
        _dims = dims;
        _capacity = capacity;
        _store = store;
        _base = baseOffset;
        _stride = NodeStride(dims);
        _strideShift = BitOperations.Log2((uint)_stride);
        _nodeParent = new int[capacity - 1];
        _nodeMass = new int[capacity - 1];
        _leafPoint = new float[capacity * dims];
        _leafMass = new int[capacity];
        _leafParent = new int[capacity];
        _freeNodes = new int[capacity - 1];
        _freeLeaves = new int[capacity];
        ResetFreeLists();
    }

    /// <summary>Number of sampled points in the tree, duplicates counted.</summary>
    public int Mass => _mass;

    private void ResetFreeLists()
    {
        // Stacks popped from the end, so slot 0 is handed out first.
        for (var i = 0; i < _capacity - 1; i++)
        {
            _freeNodes[i] = _capacity - 2 - i;
        }
        for (var i = 0; i < _capacity; i++)
        {
            _freeLeaves[i] = _capacity - 1 - i;
        }
        _freeNodeCount = _capacity - 1;
        _freeLeafCount = _capacity;
        _root = Null;
        _mass = 0;
        _normalizer = 0;
    }

    private Span<float> LeafPoint(int slot) => _leafPoint.AsSpan(slot * _dims, _dims);

    private int Offset(int node) => _base + node * _stride;

    private ref int Left(int node) => ref _store[Offset(node) + LeftWord];

    private ref int Right(int node) => ref _store[Offset(node) + RightWord];

    private ref int Dim(int node) => ref _store[Offset(node) + DimWord];

    private ref float Cut(int node) => ref Unsafe.As<int, float>(ref _store[Offset(node) + CutWord]);

    private Span<float> BoxMin(int node) => MemoryMarshal.Cast<int, float>(_store.AsSpan(Offset(node) + BoxWord, _dims));

    private Span<float> BoxMax(int node) => MemoryMarshal.Cast<int, float>(_store.AsSpan(Offset(node) + BoxWord + _dims, _dims));

    private void SetMass(int mass)
    {
        _mass = mass;
        // CommonUtils.defaultScalarNormalizerFunction: scores are scaled by log2(1 + treeMass).
        _normalizer = Math.Log2(mass + 1.0);
    }

    private int ParentOf(int reference) =>
        reference >= _capacity ? _leafParent[reference - _capacity] : _nodeParent[reference];

    private void SetParent(int reference, int parent)
    {
        if (reference >= _capacity)
        {
            _leafParent[reference - _capacity] = parent;
        }
        else
        {
            _nodeParent[reference] = parent;
        }
    }

    private int MassOf(int reference) =>
        reference >= _capacity ? _leafMass[reference - _capacity] : _nodeMass[reference];

    private void ReplaceChild(int parent, int oldChild, int newChild)
    {
        if (parent == Null)
        {
            _root = newChild;
            return;
        }
        if (Left(parent) == oldChild)
        {
            Left(parent) = newChild;
        }
        else
        {
            Right(parent) = newChild;
        }
    }

    /// <summary>
    /// Inserts a sampled point and returns the leaf slot holding it (an existing leaf when the point duplicates
    /// one). The cut is placed as in the Java core's <c>RandomCutTree.addPoint</c>: a cut drawn uniformly over the
    /// total side length of (box ∪ point) at each level, keeping the highest level where it separates the point.
    /// This walks top-down and stops at the first separating level, which has the same distribution as the Java
    /// core's bottom-up walk (the levels' cuts are independent) and draws fewer random numbers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    public int Insert(ReadOnlySpan<float> point, ref SplitMix64 random)
    {
        if (_root == Null)
        {
            var first = AllocateLeaf(point);
            _leafParent[first] = Null;
            _leafMass[first] = 1;
            _root = _capacity + first;
            SetMass(1);
            return first;
        }

        var n = _root;
        while (true)
        {
            ReadOnlySpan<float> min, max;
            if (n >= _capacity)
            {
                var slot = n - _capacity;
                var leaf = LeafPoint(slot);
                if (point.SequenceEqual(leaf))
                {
                    _leafMass[slot]++;
                    for (var a = _leafParent[slot]; a != Null; a = _nodeParent[a])
                    {
                        _nodeMass[a]++;
                    }
                    SetMass(_mass + 1);
                    return slot;
                }
                min = leaf;
                max = leaf;
            }
            else
            {
                min = BoxMin(n);
                max = BoxMax(n);
            }

            var (dim, cut) = RandomCut(random.NextDouble(), point, min, max);
            var separates = (point[dim] <= cut && cut < min[dim]) || (point[dim] > cut && cut >= max[dim]);
            if (separates)
            {
                return Split(n, point, dim, cut, min, max);
            }
            // Only internal nodes get here: a leaf's box is a single point, which any cut over the union separates.
            n = point[Dim(n)] <= Cut(n) ? Left(n) : Right(n);
        }
    }

    /// <summary>
    /// A cut uniform over the summed side lengths of (box ∪ point), after the Java core's
    /// <c>RandomCutTree.randomCut</c>; the value lies in [min, max) of the chosen dimension.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (int Dim, float Cut) RandomCut(double factor, ReadOnlySpan<float> point, ReadOnlySpan<float> min, ReadOnlySpan<float> max)
    {
        double range = 0;
        for (var i = 0; i < point.Length; i++)
        {
            range += (double)Math.Max(max[i], point[i]) - Math.Min(min[i], point[i]);
        }
        var breakPoint = factor * range;
        var lastPositive = -1;
        for (var i = 0; i < point.Length; i++)
        {
            var lo = Math.Min(min[i], point[i]);
            var hi = Math.Max(max[i], point[i]);
            var gap = (double)hi - lo;
            if (gap <= 0)
            {
                continue;
            }
            lastPositive = i;
            if (breakPoint <= gap)
            {
                var cut = (float)(lo + breakPoint);
                return (i, cut >= hi ? MathF.BitDecrement(hi) : cut);
            }
            breakPoint -= gap;
        }
        if (lastPositive < 0)
        {
            throw new InvalidOperationException("A random cut was requested for a box that is a single point equal to the new point.");
        }
        // Rounding left the break point past the last gap; the Java core handles this the same way.
        var top = Math.Max(max[lastPositive], point[lastPositive]);
        return (lastPositive, MathF.BitDecrement(top));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Split(int n, ReadOnlySpan<float> point, int dim, float cut, ReadOnlySpan<float> min, ReadOnlySpan<float> max)
    {
        var slot = AllocateLeaf(point);
        var m = AllocateNode();
        var leafRef = _capacity + slot;
        var parent = ParentOf(n);

        Dim(m) = dim;
        Cut(m) = cut;
        if (point[dim] <= cut)
        {
            Left(m) = leafRef;
            Right(m) = n;
        }
        else
        {
            Left(m) = n;
            Right(m) = leafRef;
        }
        var boxMin = BoxMin(m);
        var boxMax = BoxMax(m);
        for (var i = 0; i < _dims; i++)
        {
            boxMin[i] = Math.Min(min[i], point[i]);
            boxMax[i] = Math.Max(max[i], point[i]);
        }
        _nodeMass[m] = MassOf(n) + 1;
        _nodeParent[m] = parent;
        SetParent(n, m);
        _leafParent[slot] = m;
        _leafMass[slot] = 1;
        ReplaceChild(parent, n, m);

        for (var a = parent; a != Null; a = _nodeParent[a])
        {
            _nodeMass[a]++;
            var aMin = BoxMin(a);
            var aMax = BoxMax(a);
            for (var i = 0; i < _dims; i++)
            {
                if (point[i] < aMin[i])
                {
                    aMin[i] = point[i];
                }
                if (point[i] > aMax[i])
                {
                    aMax[i] = point[i];
                }
            }
        }
        SetMass(_mass + 1);
        return slot;
    }

    /// <summary>Removes one copy of the point in leaf <paramref name="slot"/> (a sampler eviction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    public void Delete(int slot)
    {
        SetMass(_mass - 1);
        if (_leafMass[slot] > 1)
        {
            _leafMass[slot]--;
            for (var a = _leafParent[slot]; a != Null; a = _nodeParent[a])
            {
                _nodeMass[a]--;
            }
            return;
        }

        var parent = _leafParent[slot];
        FreeLeaf(slot);
        if (parent == Null)
        {
            _root = Null;
            return;
        }
        var leafRef = _capacity + slot;
        var sibling = Left(parent) == leafRef ? Right(parent) : Left(parent);
        var grandParent = _nodeParent[parent];
        SetParent(sibling, grandParent);
        ReplaceChild(grandParent, parent, sibling);
        FreeNode(parent);

        // The freed slot keeps its coordinates until it is reused, which is after this method returns.
        ReadOnlySpan<float> removed = LeafPoint(slot);
        var rebuild = true;
        for (var a = grandParent; a != Null; a = _nodeParent[a])
        {
            _nodeMass[a]--;
            if (rebuild)
            {
                rebuild = RebuildBoxIfOnBoundary(a, removed);
            }
        }
    }

    /// <summary>
    /// Recomputes a node's box from its children when the removed point touched its boundary. Returns false when
    /// the point lay strictly inside, in which case no box above it can change either.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool RebuildBoxIfOnBoundary(int n, ReadOnlySpan<float> removed)
    {
        var min = BoxMin(n);
        var max = BoxMax(n);
        var inside = true;
        for (var i = 0; i < _dims; i++)
        {
            if (!(removed[i] > min[i] && removed[i] < max[i]))
            {
                inside = false;
                break;
            }
        }
        if (inside)
        {
            return false;
        }
        ChildBox(Left(n), out var lMin, out var lMax);
        ChildBox(Right(n), out var rMin, out var rMax);
        for (var i = 0; i < _dims; i++)
        {
            min[i] = Math.Min(lMin[i], rMin[i]);
            max[i] = Math.Max(lMax[i], rMax[i]);
        }
        return true;
    }

    private void ChildBox(int reference, out ReadOnlySpan<float> min, out ReadOnlySpan<float> max)
    {
        if (reference >= _capacity)
        {
            min = max = LeafPoint(reference - _capacity);
        }
        else
        {
            min = BoxMin(reference);
            max = BoxMax(reference);
        }
    }

    private int AllocateLeaf(ReadOnlySpan<float> point)
    {
        var slot = _freeLeaves[--_freeLeafCount];
        point.CopyTo(LeafPoint(slot));
        return slot;
    }

    private int AllocateNode() => _freeNodes[--_freeNodeCount];

    private void FreeLeaf(int slot) => _freeLeaves[_freeLeafCount++] = slot;

    private void FreeNode(int node) => _freeNodes[_freeNodeCount++] = node;

    /// <summary>
    /// Follows the cuts from the root to the leaf the point falls into, recording the internal nodes on the way.
    /// Returns the leaf reference; <paramref name="depth"/> is the leaf's depth (root = 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Descend(ReadOnlySpan<float> point, Span<int> path, out int depth)
    {
        var n = _root;
        var d = 0;
        while (n < _capacity)
        {
            path[d++] = n;
            n = point[Dim(n)] <= Cut(n) ? Left(n) : Right(n);
        }
        depth = d;
        return n;
    }

    /// <summary>
    /// The Java core's standard anomaly score for one tree (<c>AnomalyScoreVisitor</c> over
    /// <c>AbstractScalarScoreVisitor</c>, scoring functions from <c>CommonUtils</c>): at the leaf, a point equal to
    /// the leaf scores <c>damp · 1/(depth + log2(mass + 1))</c>, any other <c>1/(depth + 1)</c>; then each
    /// ancestor at depth k mixes in <c>1/(k + 1)</c> with the probability that a random cut of (box ∪ point)
    /// separates the point, stopping once the point lies inside a box. The sum is scaled by log2(1 + treeMass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double Score(ReadOnlySpan<float> point)
    {
        if (_root == Null)
        {
            return 0;
        }
        // The Java visitor walks leaf → root: score ← p_k/(k+1) + (1 − p_k)·score, stopping where p_k = 0 (the point
        // is inside that box, hence inside every box above). Unrolled, that is
        // Σ_k p_k/(k+1)·Π_{j<k}(1 − p_j) + leafScore·Π_j(1 − p_j) with p = 0 for boxes holding the point, which one
        // root → leaf pass computes without a path stack. A point equal to its leaf lies in every box on its path,
        // so the sum is then the leaf's seen score alone, as in the Java visitor. The arithmetic is branch-free:
        // which side of a box or cut a point falls on is data-dependent and would mispredict.
        return _dims == 1 ? ScoreOne<OneDimension>(point) : ScoreOne<ManyDimensions>(point);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    private double ScoreOne<TBox>(ReadOnlySpan<float> point)
        where TBox : struct, IBoxSeparation
    {
        var dims = _dims;
        var capacity = _capacity;
        ref var store = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_store), _base);
        ref var inverse = ref MemoryMarshal.GetArrayDataReference(InverseDepth);
        ref var q = ref MemoryMarshal.GetReference(point);
        double first = q;
        double sum = 0, stay = 1;
        var n = _root;
        var depth = 0;
        var shift = _strideShift;
        while (n < capacity)
        {
            ref var record = ref Unsafe.Add(ref store, n << shift);
            var separated = stay * TBox.Probability(ref record, ref q, dims, first);
            sum += separated * Unsafe.Add(ref inverse, depth++);
            stay -= separated;
            n = Child<TBox>(ref record, ref q);
        }
        return Finish(point, n, depth, sum, stay);
    }

    /// <summary>The child of an internal node on the point's side of its cut (left when value ≤ cut).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Child<TBox>(ref int record, ref float q)
        where TBox : struct, IBoxSeparation
    {
        var value = typeof(TBox) == typeof(OneDimension) ? q : Unsafe.Add(ref q, Unsafe.Add(ref record, DimWord));
        return Unsafe.Add(ref record, value > Unsafe.As<int, float>(ref Unsafe.Add(ref record, CutWord)) ? RightWord : LeftWord);
    }

    /// <summary>The leaf's part of the score: seen (damped) for a duplicate, else unseen.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double LeafScore(ReadOnlySpan<float> point, int leafRef, int depth)
    {
        var slot = leafRef - _capacity;
        if (point.SequenceEqual(LeafPoint(slot)))
        {
            var leafMass = _leafMass[slot];
            return (1.0 - leafMass / (2.0 * _mass)) / (depth + Math.Log2(leafMass + 1.0));
        }
        return 1.0 / (depth + 1);
    }

    /// <summary>Separation probability of a point from an internal node's box, specialised per dimension count.</summary>
    private interface IBoxSeparation
    {
        static abstract double Probability(ref int record, ref float point, int dims, double first);
    }

    /// <summary>max(value, 0) as one maxsd: Math.Max's NaN handling costs six instructions and values are finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double PositivePart(double value) => Sse2.IsSupported
        ? Sse2.MaxScalar(Vector128.CreateScalarUnsafe(value), Vector128<double>.Zero).ToScalar()
        : Math.Max(value, 0);

    /// <summary>One dimension: no loop, and the box's two bounds share a cache line with the cut.</summary>
    private readonly struct OneDimension : IBoxSeparation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Probability(ref int record, ref float point, int dims, double first)
        {
            double lo = Unsafe.As<int, float>(ref Unsafe.Add(ref record, BoxWord));
            double hi = Unsafe.As<int, float>(ref Unsafe.Add(ref record, BoxWord + 1));
            var x = first;
            var outside = PositivePart(lo - x) + PositivePart(x - hi);
            return outside / (hi - lo + outside);
        }
    }

    /// <summary>Any number of dimensions; four at a time in 256-bit double vectors where AVX is available.</summary>
    private readonly struct ManyDimensions : IBoxSeparation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Probability(ref int record, ref float point, int dims, double first)
        {
            ref var min = ref Unsafe.As<int, float>(ref Unsafe.Add(ref record, BoxWord));
            ref var max = ref Unsafe.Add(ref min, dims);
            double newRange = 0, difference = 0;
            var i = 0;
            if (Avx.IsSupported && dims >= 4)
            {
                var outsideSum = Vector256<double>.Zero;
                var rangeSum = Vector256<double>.Zero;
                for (; i + 4 <= dims; i += 4)
                {
                    var lo = Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref Unsafe.Add(ref min, i)));
                    var hi = Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref Unsafe.Add(ref max, i)));
                    var x = Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref Unsafe.Add(ref point, i)));
                    // Avx.Max is one vmaxpd; Vector256.Max adds NaN handling that finite boxes never need.
                    var outside = Avx.Max(lo - x, Vector256<double>.Zero) + Avx.Max(x - hi, Vector256<double>.Zero);
                    outsideSum += outside;
                    rangeSum += hi - lo + outside;
                }
                difference = Vector256.Sum(outsideSum);
                newRange = Vector256.Sum(rangeSum);
            }
            for (; i < dims; i++)
            {
                double lo = Unsafe.Add(ref min, i);
                double hi = Unsafe.Add(ref max, i);
                double x = Unsafe.Add(ref point, i);
                var outside = PositivePart(lo - x) + PositivePart(x - hi);
                difference += outside;
                newRange += hi - lo + outside;
            }
            return difference / newRange;
        }
    }

    /// <summary>
    /// Number of scoring chunks for <paramref name="treeCount"/> trees: groups of four, then single trees. A forest
    /// score is the sum of chunk sums in chunk order, whether the chunks are scored by one thread or several, so
    /// results do not depend on threading.
    /// </summary>
    public static int ChunkCount(int treeCount) => treeCount / 4 + treeCount % 4;

    /// <summary>First tree and tree count of chunk <paramref name="chunk"/>.</summary>
    public static (int First, int Count) Chunk(int treeCount, int chunk) =>
        chunk < treeCount / 4 ? (4 * chunk, 4) : (treeCount / 4 * 4 + (chunk - treeCount / 4), 1);

    /// <summary>
    /// Sum of <see cref="Score"/> over <paramref name="trees"/> (sharing one node store), chunk by chunk in order.
    /// </summary>
    public static double ScoreSum(RandomCutTree[] trees, ReadOnlySpan<float> point)
    {
        double total = 0;
        var chunks = ChunkCount(trees.Length);
        for (var c = 0; c < chunks; c++)
        {
            total += ScoreChunk(trees, c, point);
        }
        return total;
    }

    /// <summary>
    /// Sum of the scores of one chunk's trees. Each descent is a chain of dependent loads (node → cut → child);
    /// descending four trees in lock step gives the processor four independent chains to overlap, which halved
    /// the cost per tree on the development machine. Same arithmetic per tree as <see cref="Score"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    public static double ScoreChunk(RandomCutTree[] trees, int chunk, ReadOnlySpan<float> point)
    {
        var (first, count) = Chunk(trees.Length, chunk);
        if (count == 1)
        {
            return trees[first].Score(point);
        }
        var (a, b, c, d) = (trees[first], trees[first + 1], trees[first + 2], trees[first + 3]);
        if (a._root == Null || b._root == Null || c._root == Null || d._root == Null)
        {
            return a.Score(point) + b.Score(point) + c.Score(point) + d.Score(point);
        }
        return a._dims == 1 ? ScoreFour<OneDimension>(a, b, c, d, point) : ScoreFour<ManyDimensions>(a, b, c, d, point);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    private static double ScoreFour<TBox>(RandomCutTree t0, RandomCutTree t1, RandomCutTree t2, RandomCutTree t3, ReadOnlySpan<float> point)
        where TBox : struct, IBoxSeparation
    {
        var capacity = t0._capacity;
        var shift = t0._strideShift;
        var dims = t0._dims;
        ref var store = ref MemoryMarshal.GetArrayDataReference(t0._store);
        ref var inverse = ref MemoryMarshal.GetArrayDataReference(InverseDepth);
        ref var q = ref MemoryMarshal.GetReference(point);
        double first = q;
        int n0 = t0._root, n1 = t1._root, n2 = t2._root, n3 = t3._root;
        int d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double p0 = 1, p1 = 1, p2 = 1, p3 = 1;
        ref var r0 = ref Unsafe.Add(ref store, t0._base);
        ref var r1 = ref Unsafe.Add(ref store, t1._base);
        ref var r2 = ref Unsafe.Add(ref store, t2._base);
        ref var r3 = ref Unsafe.Add(ref store, t3._base);
        while ((n0 < capacity) | (n1 < capacity) | (n2 < capacity) | (n3 < capacity))
        {
            if (n0 < capacity)
            {
                ref var record = ref Unsafe.Add(ref r0, n0 << shift);
                var separated = p0 * TBox.Probability(ref record, ref q, dims, first);
                s0 += separated * Unsafe.Add(ref inverse, d0++);
                p0 -= separated;
                n0 = Child<TBox>(ref record, ref q);
            }
            if (n1 < capacity)
            {
                ref var record = ref Unsafe.Add(ref r1, n1 << shift);
                var separated = p1 * TBox.Probability(ref record, ref q, dims, first);
                s1 += separated * Unsafe.Add(ref inverse, d1++);
                p1 -= separated;
                n1 = Child<TBox>(ref record, ref q);
            }
            if (n2 < capacity)
            {
                ref var record = ref Unsafe.Add(ref r2, n2 << shift);
                var separated = p2 * TBox.Probability(ref record, ref q, dims, first);
                s2 += separated * Unsafe.Add(ref inverse, d2++);
                p2 -= separated;
                n2 = Child<TBox>(ref record, ref q);
            }
            if (n3 < capacity)
            {
                ref var record = ref Unsafe.Add(ref r3, n3 << shift);
                var separated = p3 * TBox.Probability(ref record, ref q, dims, first);
                s3 += separated * Unsafe.Add(ref inverse, d3++);
                p3 -= separated;
                n3 = Child<TBox>(ref record, ref q);
            }
        }
        return t0.Finish(point, n0, d0, s0, p0) + t1.Finish(point, n1, d1, s1, p1)
            + t2.Finish(point, n2, d2, s2, p2) + t3.Finish(point, n3, d3, s3, p3);
    }

    private double Finish(ReadOnlySpan<float> point, int leafRef, int depth, double sum, double stay) =>
        (sum + stay * LeafScore(point, leafRef, depth)) * _normalizer;

    /// <summary>
    /// Adds this tree's directional attribution of the score to <paramref name="high"/> and
    /// <paramref name="low"/> (tree dimensions), after the Java core's <c>AbstractAttributionVisitor</c> with
    /// leaves not ignored: the separation probability at each level is split by dimension and by side, and a point
    /// equal to its leaf starts from an equal split and is judged against its siblings' boxes (the "shadow box"),
    /// then rescaled to the scalar score. High and low parts over all dimensions sum to <see cref="Score"/>.
    /// </summary>
    public void Attribute(ReadOnlySpan<float> point, Span<int> path, Span<double> high, Span<double> low, Span<double> scratch)
    {
        if (_root == Null)
        {
            return;
        }
        var dims = _dims;
        var treeHigh = scratch[..dims];
        var treeLow = scratch.Slice(dims, dims);
        var shadowMin = scratch.Slice(2 * dims, dims);
        var shadowMax = scratch.Slice(3 * dims, dims);

        var leafRef = Descend(point, path, out var depth);
        var slot = leafRef - _capacity;
        var leaf = LeafPoint(slot);
        var duplicate = point.SequenceEqual(leaf);
        double savedScore;
        if (duplicate)
        {
            var leafMass = _leafMass[slot];
            savedScore = (1.0 - leafMass / (2.0 * _mass)) / (depth + Math.Log2(leafMass + 1.0));
            treeHigh.Fill(savedScore / (2 * dims));
            treeLow.Fill(savedScore / (2 * dims));
        }
        else
        {
            savedScore = 1.0 / (depth + 1);
            double newRange = 0;
            for (var i = 0; i < dims; i++)
            {
                newRange += Math.Abs((double)point[i] - leaf[i]);
            }
            for (var i = 0; i < dims; i++)
            {
                var gap = (double)point[i] - leaf[i];
                treeHigh[i] = gap > 0 ? savedScore * gap / newRange : 0;
                treeLow[i] = gap < 0 ? savedScore * -gap / newRange : 0;
            }
        }

        var child = leafRef;
        var haveShadow = false;
        for (var k = depth - 1; k >= 0; k--)
        {
            var n = path[k];
            ReadOnlySpan<float> min, max;
            if (duplicate)
            {
                ChildBox(Left(n) == child ? Right(n) : Left(n), out var sMin, out var sMax);
                for (var i = 0; i < dims; i++)
                {
                    shadowMin[i] = haveShadow ? Math.Min(shadowMin[i], sMin[i]) : sMin[i];
                    shadowMax[i] = haveShadow ? Math.Max(shadowMax[i], sMax[i]) : sMax[i];
                }
                haveShadow = true;
                min = default;
                max = default;
            }
            else
            {
                min = BoxMin(n);
                max = BoxMax(n);
            }
            child = n;

            double newRange = 0, difference = 0;
            for (var i = 0; i < dims; i++)
            {
                double lo = duplicate ? shadowMin[i] : min[i];
                double hi = duplicate ? shadowMax[i] : max[i];
                double x = point[i];
                newRange += Math.Max(hi, x) - Math.Min(lo, x);
                difference += Math.Max(x - hi, 0) + Math.Max(lo - x, 0);
            }
            var inside = !(newRange > 0) || difference <= 0;
            if (!inside)
            {
                var probability = difference / newRange;
                var newScore = 1.0 / (k + 1);
                for (var i = 0; i < dims; i++)
                {
                    double lo = duplicate ? shadowMin[i] : min[i];
                    double hi = duplicate ? shadowMax[i] : max[i];
                    double x = point[i];
                    treeHigh[i] = Math.Max(x - hi, 0) / newRange * newScore + (1 - probability) * treeHigh[i];
                    treeLow[i] = Math.Max(lo - x, 0) / newRange * newScore + (1 - probability) * treeLow[i];
                }
            }
            if (duplicate && (inside || k == 0))
            {
                Renormalize(treeHigh, treeLow, savedScore);
            }
            if (inside)
            {
                break;
            }
        }

        for (var i = 0; i < dims; i++)
        {
            high[i] += treeHigh[i] * _normalizer;
            low[i] += treeLow[i] * _normalizer;
        }
    }

    private static void Renormalize(Span<double> high, Span<double> low, double total)
    {
        double sum = 0;
        for (var i = 0; i < high.Length; i++)
        {
            sum += high[i] + low[i];
        }
        if (sum <= 0)
        {
            return;
        }
        var factor = total / sum;
        for (var i = 0; i < high.Length; i++)
        {
            high[i] *= factor;
            low[i] *= factor;
        }
    }
}
