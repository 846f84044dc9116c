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
/// <remarks>
/// Scoring descends from the root to a leaf, then walks back up through the boxes until one holds the point (the
/// Java visitor's order). The descent is a chain of dependent loads that needs only cuts, cut dimensions and
/// children, so those live apart from the boxes in 12-byte records: a 100-tree forest of 256-sample trees keeps
/// them in 300 KB, within a core's L2 cache, and the upward walk reads the boxes of the few levels (3.5 on average
/// on the sine anchors, of 10.4) where the point lies outside them. Measured against one 64-byte record per node
/// holding the box too: 15–25 % more points/s for d = 4 and d = 5, the same for 16 cache-cold forests; one
/// dimension keeps a top-down pass (see <see cref="ScoreFourOneDimension"/>).
/// </remarks>
internal sealed partial class RandomCutTree
{
    private const int Null = -1;


    private readonly int _dims;
    private readonly int _capacity;
    private readonly CutNode[] _nodes; // cut and children of internal nodes, shared by the forest's trees
    private readonly float[] _boxes; // per internal node: dims minimums, then dims maximums; shared likewise
    private readonly int _base;
    private readonly int _boxBase;
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
    /// log2(m + 1) for leaf and tree masses m: a point equal to a sampled one (common with discrete features such as
    /// star ratings) needs it for every tree, and the libm call was 3 % of the platform's CPU time; every insert and
    /// delete needs it for the tree's normaliser (0.5 % of <c>reviewctl bench rcf</c>).
    /// </summary>
    private static readonly double[] Log2MassPlusOne =
        Enumerable.Range(0, RandomCutForestOptions.MaxSampleSize + 1).Select(m => Math.Log2(m + 1.0)).ToArray();

    /// <summary>Root-to-leaf paths of the trees being scored on this thread (the batch API scores on several).</summary>
    [ThreadStatic]
    private static ushort[]? t_paths;

    /// <summary>
    /// Cut, children and cut dimension of one internal node, 12 bytes; child references fit 16 bits (see the state
    /// format). The dimension shares the record so that a descent step touches one cache line, not two.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CutNode
    {
        public float Cut;
        public ushort Left;
        public ushort Right;
        public int Dim;
    }

    /// <summary>Floats of box per internal node for <paramref name="dims"/> dimensions.</summary>
    public static int BoxLength(int dims) => 2 * dims;

    /// <summary>Node records per tree in the shared arrays: capacity − 1 internal nodes, then capacity leaves.</summary>
    public static int RecordsPerTree(int capacity) => 2 * capacity;

    /// <param name="nodes">
    /// Node records of all trees of a forest (<see cref="RecordsPerTree"/> each), so that one cache-friendly array
    /// holds every cut, and <paramref name="boxes"/> holds
    /// <see cref="BoxLength"/> floats per internal node.
    /// </param>
    public RandomCutTree(int dims, int capacity, CutNode[] nodes, float[] boxes, int treeIndex)
    {
        _dims = dims;
        _capacity = capacity;
        _nodes = nodes;
        _boxes = boxes;
        _base = treeIndex * RecordsPerTree(capacity);
        _boxBase = treeIndex * (capacity - 1) * BoxLength(dims);
        // A leaf's record leads back to the leaf on either side of any value, so that descents in lock step
        // park at their leaves instead of branching on each tree's end.
        for (var slot = 0; slot < capacity; slot++)
        {
            ref var leaf = ref Node(capacity + slot);
            leaf.Cut = float.PositiveInfinity;
            leaf.Left = leaf.Right = (ushort)(capacity + slot);
        }
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

    /// <summary>
    /// Becomes an exact copy of <paramref name="source"/>, a tree of the same shape, except for its records in the
    /// shared node and box arrays, which the forest copies whole (<see cref="CopySharedArrays"/>).
    /// </summary>
    public void CopyFrom(RandomCutTree source)
    {
        Array.Copy(source._nodeParent, _nodeParent, _nodeParent.Length);
        Array.Copy(source._nodeMass, _nodeMass, _nodeMass.Length);
        Array.Copy(source._leafPoint, _leafPoint, _leafPoint.Length);
        Array.Copy(source._leafMass, _leafMass, _leafMass.Length);
        Array.Copy(source._leafParent, _leafParent, _leafParent.Length);
        Array.Copy(source._freeNodes, _freeNodes, _freeNodes.Length);
        Array.Copy(source._freeLeaves, _freeLeaves, _freeLeaves.Length);
        _freeNodeCount = source._freeNodeCount;
        _freeLeafCount = source._freeLeafCount;
        _root = source._root;
        _mass = source._mass;
        _normalizer = source._normalizer;
    }

    /// <summary>Copies the node and box arrays that <paramref name="source"/>'s forest shares among its trees.</summary>
    public void CopySharedArrays(RandomCutTree source)
    {
        Array.Copy(source._nodes, _nodes, _nodes.Length);
        Array.Copy(source._boxes, _boxes, _boxes.Length);
    }

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

    private ref CutNode Node(int node) => ref _nodes[_base + node];

    private ref ushort Left(int node) => ref _nodes[_base + node].Left;

    private ref ushort Right(int node) => ref _nodes[_base + node].Right;

    private ref int Dim(int node) => ref _nodes[_base + node].Dim;

    private ref float Cut(int node) => ref _nodes[_base + node].Cut;

    private Span<float> BoxMin(int node) => _boxes.AsSpan(_boxBase + node * 2 * _dims, _dims);

    private Span<float> BoxMax(int node) => _boxes.AsSpan(_boxBase + node * 2 * _dims + _dims, _dims);

    private void SetMass(int mass)
    {
        _mass = mass;
        // CommonUtils.defaultScalarNormalizerFunction: scores are scaled by log2(1 + treeMass).
        _normalizer = Log2MassPlusOne[mass];
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
            Left(parent) = (ushort)newChild;
        }
        else
        {
            Right(parent) = (ushort)newChild;
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
            Left(m) = (ushort)leafRef;
            Right(m) = (ushort)n;
        }
        else
        {
            Left(m) = (ushort)n;
            Right(m) = (ushort)leafRef;
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
        var path = Paths(_capacity);
        return _dims == 1 ? ScoreOne<OneDimension>(point, path) : ScoreOne<ManyDimensions>(point, path);
    }

    private static ushort[] Paths(int length)
    {
        var paths = t_paths;
        if (paths is null || paths.Length < length)
        {
            t_paths = paths = new ushort[Math.Max(length, 4 * 256)];
        }
        return paths;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    private double ScoreOne<TBox>(ReadOnlySpan<float> point, ushort[] paths)
        where TBox : struct, IBoxSeparation
    {
        ref var nodes = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_nodes), _base);
        ref var path = ref MemoryMarshal.GetArrayDataReference(paths);
        ref var q = ref MemoryMarshal.GetReference(point);
        var first = q;
        var n = _root;
        var depth = 0;
        while (n < _capacity)
        {
            Unsafe.Add(ref path, depth++) = (ushort)n;
            n = Child<TBox>(ref nodes, 0, n, ref q, first);
        }
        return Climb<TBox>(point, n, depth, ref path);
    }

    /// <summary>The child of an internal node on the point's side of its cut (left when value ≤ cut).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Child<TBox>(ref CutNode nodes, int offset, int n, ref float q, float first)
        where TBox : struct, IBoxSeparation
    {
        ref var node = ref Unsafe.Add(ref nodes, offset + n);
        var value = typeof(TBox) == typeof(OneDimension) ? first : Unsafe.Add(ref q, node.Dim);
        // Both children come in one 32-bit load beside the cut, and the side shifts them: no second dependent load,
        // and a setcc rather than a branch that would mispredict half the time.
        var children = Unsafe.As<ushort, uint>(ref node.Left);
        var side = value > node.Cut ? 1 : 0;
        return (int)((children >> (side << 4)) & 0xFFFF);
    }

    /// <summary>
    /// From the leaf that the descent reached, the Java visitor's leaf → root pass: a point equal to the leaf
    /// scores as seen and lies in every box above; otherwise score ← p_k/(k + 1) + (1 − p_k)·score at each
    /// ancestor, stopping at the first box that holds the point (it then lies in every box above too).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double Climb<TBox>(ReadOnlySpan<float> point, int leafRef, int depth, ref ushort path)
        where TBox : struct, IBoxSeparation
    {
        var slot = leafRef - _capacity;
        if (TBox.Equal(ref _leafPoint[slot * _dims], ref MemoryMarshal.GetReference(point), _dims))
        {
            return SeenScore(slot, depth) * _normalizer;
        }
        ref var inverse = ref MemoryMarshal.GetArrayDataReference(InverseDepth);
        ref var boxes = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_boxes), _boxBase);
        ref var q = ref MemoryMarshal.GetReference(point);
        var dims = _dims;
        var boxLength = 2 * dims;
        var score = Unsafe.Add(ref inverse, depth);
        for (var k = depth - 1; k >= 0; k--)
        {
            var node = Unsafe.Add(ref path, k);
            var probability = TBox.Probability(ref Unsafe.Add(ref boxes, node * boxLength), ref q, dims);
            if (probability <= 0)
            {
                break;
            }
            score = probability * Unsafe.Add(ref inverse, k) + (1 - probability) * score;
        }
        return score * _normalizer;
    }

    /// <summary>Separation probability of a point from an internal node's box, specialised per dimension count.</summary>
    private interface IBoxSeparation
    {
        /// <param name="box">The node's minimums, then its maximums.</param>
        static abstract double Probability(ref float box, ref float point, int dims);

        /// <summary>Whether two points are equal (finite values, so == is SequenceEqual's float equality).</summary>
        static abstract bool Equal(ref float a, ref float b, int dims);
    }

    /// <summary>max(value, 0) as one maxsd: Math.Max's NaN handling costs six instructions and values are finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double PositivePart(double value) => Sse2.IsSupported
        ? Sse2.MaxScalar(Vector128.CreateScalarUnsafe(value), Vector128<double>.Zero).ToScalar()
        : Math.Max(value, 0);

    /// <summary>One dimension: no loop, and the box's two bounds are adjacent.</summary>
    private readonly struct OneDimension : IBoxSeparation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Probability(ref float box, ref float point, int dims)
        {
            double lo = box;
            double hi = Unsafe.Add(ref box, 1);
            double x = point;
            var outside = PositivePart(lo - x) + PositivePart(x - hi);
            return outside / (hi - lo + outside);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Equal(ref float a, ref float b, int dims) => a == b;
    }

    /// <summary>Any number of dimensions; four at a time in 256-bit double vectors where AVX is available.</summary>
    private readonly struct ManyDimensions : IBoxSeparation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Probability(ref float box, ref float point, int dims)
        {
            ref var min = ref box;
            ref var max = ref Unsafe.Add(ref box, dims);
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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Equal(ref float a, ref float b, int dims)
        {
            for (var i = 0; i < dims; i++)
            {
                if (Unsafe.Add(ref a, i) != Unsafe.Add(ref b, i))
                {
                    return false;
                }
            }
            return true;
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
    /// Sum of the scores of one chunk's trees. Each descent is a chain of dependent loads (node → cut → child);
    /// descending four trees in lock step gives the processor four independent chains to overlap. Same
    /// arithmetic per tree as <see cref="Score"/>.
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
        return a._dims == 1
            ? ScoreFourOneDimension(a, b, c, d, point[0])
            : ScoreFour<ManyDimensions>(a, b, c, d, point, Paths(4 * a._capacity));
    }

    /// <summary>
    /// One dimension: a box's separation probability costs a division and no loop, so each level folds its term in
    /// on the way down (Σ_k p_k/(k + 1)·Π_{j&lt;k}(1 − p_j) + leaf·Π_j(1 − p_j), the leaf → root recursion
    /// unrolled, with p = 0 for boxes that hold the point) instead of recording a path and climbing back, which
    /// measured 8 % slower here. The boxes are read beside the cuts, from the same node index.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    private static double ScoreFourOneDimension(RandomCutTree t0, RandomCutTree t1, RandomCutTree t2, RandomCutTree t3, float value)
    {
        var capacity = t0._capacity;
        ref var inverse = ref MemoryMarshal.GetArrayDataReference(InverseDepth);
        ref var nodes = ref MemoryMarshal.GetArrayDataReference(t0._nodes);
        ref var boxes = ref MemoryMarshal.GetArrayDataReference(t0._boxes);
        ref var r0 = ref Unsafe.Add(ref nodes, t0._base);
        ref var r1 = ref Unsafe.Add(ref nodes, t1._base);
        ref var r2 = ref Unsafe.Add(ref nodes, t2._base);
        ref var r3 = ref Unsafe.Add(ref nodes, t3._base);
        ref var b0 = ref Unsafe.Add(ref boxes, t0._boxBase);
        ref var b1 = ref Unsafe.Add(ref boxes, t1._boxBase);
        ref var b2 = ref Unsafe.Add(ref boxes, t2._boxBase);
        ref var b3 = ref Unsafe.Add(ref boxes, t3._boxBase);
        int n0 = t0._root, n1 = t1._root, n2 = t2._root, n3 = t3._root;
        int d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double p0 = 1, p1 = 1, p2 = 1, p3 = 1;
        while ((n0 < capacity) | (n1 < capacity) | (n2 < capacity) | (n3 < capacity))
        {
            if (n0 < capacity)
            {
                var separated = p0 * OneDimension.Probability(ref Unsafe.Add(ref b0, 2 * n0), ref value, 1);
                s0 += separated * Unsafe.Add(ref inverse, d0++);
                p0 -= separated;
                n0 = Child<OneDimension>(ref r0, 0, n0, ref value, value);
            }
            if (n1 < capacity)
            {
                var separated = p1 * OneDimension.Probability(ref Unsafe.Add(ref b1, 2 * n1), ref value, 1);
                s1 += separated * Unsafe.Add(ref inverse, d1++);
                p1 -= separated;
                n1 = Child<OneDimension>(ref r1, 0, n1, ref value, value);
            }
            if (n2 < capacity)
            {
                var separated = p2 * OneDimension.Probability(ref Unsafe.Add(ref b2, 2 * n2), ref value, 1);
                s2 += separated * Unsafe.Add(ref inverse, d2++);
                p2 -= separated;
                n2 = Child<OneDimension>(ref r2, 0, n2, ref value, value);
            }
            if (n3 < capacity)
            {
                var separated = p3 * OneDimension.Probability(ref Unsafe.Add(ref b3, 2 * n3), ref value, 1);
                s3 += separated * Unsafe.Add(ref inverse, d3++);
                p3 -= separated;
                n3 = Child<OneDimension>(ref r3, 0, n3, ref value, value);
            }
        }
        return t0.FinishTopDown(value, n0, d0, s0, p0) + t1.FinishTopDown(value, n1, d1, s1, p1)
            + t2.FinishTopDown(value, n2, d2, s2, p2) + t3.FinishTopDown(value, n3, d3, s3, p3);
    }

    /// <summary>
    /// The unnormalised score of a point equal to leaf <paramref name="slot"/> at <paramref name="depth"/>: the Java
    /// core's scoreSeen, 1/(depth + log2(mass + 1)), damped by 1 − mass/(2·treeMass).
    /// </summary>
    private double SeenScore(int slot, int depth)
    {
        var leafMass = _leafMass[slot];
        return (1.0 - leafMass / (2.0 * _mass)) / (depth + Log2MassPlusOne[leafMass]);
    }

    /// <summary>
    /// Completes a top-down one-dimensional score: a point equal to its leaf lies in every box on its path, so
    /// it scores as seen alone; otherwise the leaf's unseen score weighs in with the probability left over.
    /// </summary>
    private double FinishTopDown(float value, int leafRef, int depth, double sum, double stay)
    {
        var slot = leafRef - _capacity;
        if (_leafPoint[slot] == value)
        {
            return SeenScore(slot, depth) * _normalizer;
        }
        return (sum + stay * Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(InverseDepth), depth)) * _normalizer;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
    private static double ScoreFour<TBox>(RandomCutTree t0, RandomCutTree t1, RandomCutTree t2, RandomCutTree t3,
        ReadOnlySpan<float> point, ushort[] paths)
        where TBox : struct, IBoxSeparation
    {
        // The chunk's trees are consecutive in the shared arrays, so one reference and a stride address all four,
        // and each lane's path position is one index: sixteen live integers would spill the descent to the stack.
        var capacity = t0._capacity;
        var stride = t1._base - t0._base;
        ref var nodes = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(t0._nodes), t0._base);
        ref var q = ref MemoryMarshal.GetReference(point);
        var first = q;
        ref var path = ref MemoryMarshal.GetArrayDataReference(paths);
        int n0 = t0._root, n1 = t1._root, n2 = t2._root, n3 = t3._root;
        int w0 = 0, w1 = capacity, w2 = 2 * capacity, w3 = 3 * capacity;
        // Straight-line steps: a lane at its leaf stays there (its record leads back to it) and stops lengthening
        // its path, so the only branch is the loop's, taken until the deepest of the four leaves.
        while (((n0 - capacity) | (n1 - capacity) | (n2 - capacity) | (n3 - capacity)) < 0)
        {
            Unsafe.Add(ref path, w0) = (ushort)n0;
            w0 += n0 < capacity ? 1 : 0;
            n0 = Child<TBox>(ref nodes, 0, n0, ref q, first);
            Unsafe.Add(ref path, w1) = (ushort)n1;
            w1 += n1 < capacity ? 1 : 0;
            n1 = Child<TBox>(ref nodes, stride, n1, ref q, first);
            Unsafe.Add(ref path, w2) = (ushort)n2;
            w2 += n2 < capacity ? 1 : 0;
            n2 = Child<TBox>(ref nodes, 2 * stride, n2, ref q, first);
            Unsafe.Add(ref path, w3) = (ushort)n3;
            w3 += n3 < capacity ? 1 : 0;
            n3 = Child<TBox>(ref nodes, 3 * stride, n3, ref q, first);
        }
        ref var p1 = ref Unsafe.Add(ref path, capacity);
        ref var p2 = ref Unsafe.Add(ref path, 2 * capacity);
        ref var p3 = ref Unsafe.Add(ref path, 3 * capacity);
        return t0.Climb<TBox>(point, n0, w0, ref path) + t1.Climb<TBox>(point, n1, w1 - capacity, ref p1)
            + t2.Climb<TBox>(point, n2, w2 - 2 * capacity, ref p2) + t3.Climb<TBox>(point, n3, w3 - 3 * capacity, ref p3);
    }

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
            savedScore = SeenScore(slot, depth);
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
