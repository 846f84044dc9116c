using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    private readonly int _dims;
    private readonly int _capacity;
    private readonly Node[] _nodes;
    private readonly int[] _nodeParent;
    private readonly int[] _nodeMass;
    private readonly float[] _box; // per internal node: dims minimums, then dims maximums
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

    [StructLayout(LayoutKind.Sequential)]
    private struct Node
    {
        public int Left;
        public int Right;
        public int Dim;
        public float Cut;
    }

    public RandomCutTree(int dims, int capacity)
    {
        _dims = dims;
        _capacity = capacity;
        _nodes = new Node[capacity - 1];
        _nodeParent = new int[capacity - 1];
        _nodeMass = new int[capacity - 1];
        _box = new float[(capacity - 1) * 2 * dims];
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

    private Span<float> BoxMin(int node) => _box.AsSpan(node * 2 * _dims, _dims);

    private Span<float> BoxMax(int node) => _box.AsSpan(node * 2 * _dims + _dims, _dims);

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
        ref var node = ref _nodes[parent];
        if (node.Left == oldChild)
        {
            node.Left = newChild;
        }
        else
        {
            node.Right = newChild;
        }
    }

    /// <summary>
    /// Inserts a sampled point and returns the leaf slot holding it (an existing leaf when the point duplicates
    /// one). The cut is placed as in the Java core's <c>RandomCutTree.addPoint</c>: a cut drawn uniformly over the
    /// total side length of (box ∪ point) at each level, keeping the highest level where it separates the point.
    /// This walks top-down and stops at the first separating level, which has the same distribution as the Java
    /// core's bottom-up walk (the levels' cuts are independent) and draws fewer random numbers.
    /// </summary>
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
            ref var node = ref _nodes[n];
            n = point[node.Dim] <= node.Cut ? node.Left : node.Right;
        }
    }

    /// <summary>
    /// A cut uniform over the summed side lengths of (box ∪ point), after the Java core's
    /// <c>RandomCutTree.randomCut</c>; the value lies in [min, max) of the chosen dimension.
    /// </summary>
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

    private int Split(int n, ReadOnlySpan<float> point, int dim, float cut, ReadOnlySpan<float> min, ReadOnlySpan<float> max)
    {
        var slot = AllocateLeaf(point);
        var m = AllocateNode();
        var leafRef = _capacity + slot;
        var parent = ParentOf(n);

        ref var node = ref _nodes[m];
        node.Dim = dim;
        node.Cut = cut;
        if (point[dim] <= cut)
        {
            node.Left = leafRef;
            node.Right = n;
        }
        else
        {
            node.Left = n;
            node.Right = leafRef;
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
        ref var node = ref _nodes[parent];
        var sibling = node.Left == leafRef ? node.Right : node.Left;
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
        ref var node = ref _nodes[n];
        ChildBox(node.Left, out var lMin, out var lMax);
        ChildBox(node.Right, out var rMin, out var rMax);
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
        ref var nodes = ref MemoryMarshal.GetArrayDataReference(_nodes);
        while (n < _capacity)
        {
            path[d++] = n;
            ref var node = ref Unsafe.Add(ref nodes, n);
            n = point[node.Dim] <= node.Cut ? node.Left : node.Right;
        }
        depth = d;
        return n;
    }

    /// <summary>Depth (root = 0) of the leaf <paramref name="point"/> falls into; for diagnostics and tests.</summary>
    internal int LeafDepth(ReadOnlySpan<float> point, Span<int> path)
    {
        if (_root == Null)
        {
            return -1;
        }
        Descend(point, path, out var depth);
        return depth;
    }

    /// <summary>
    /// The Java core's standard anomaly score for one tree (<c>AnomalyScoreVisitor</c> over
    /// <c>AbstractScalarScoreVisitor</c>, scoring functions from <c>CommonUtils</c>): at the leaf, a point equal to
    /// the leaf scores <c>damp · 1/(depth + log2(mass + 1))</c>, any other <c>1/(depth + 1)</c>; then each
    /// ancestor at depth k mixes in <c>1/(k + 1)</c> with the probability that a random cut of (box ∪ point)
    /// separates the point, stopping once the point lies inside a box. The sum is scaled by log2(1 + treeMass).
    /// </summary>
    public double Score(ReadOnlySpan<float> point, Span<int> path)
    {
        if (_root == Null)
        {
            return 0;
        }
        var leafRef = Descend(point, path, out var depth);
        var slot = leafRef - _capacity;
        if (point.SequenceEqual(LeafPoint(slot)))
        {
            var leafMass = _leafMass[slot];
            var damp = 1.0 - leafMass / (2.0 * _mass);
            return damp / (depth + Math.Log2(leafMass + 1.0)) * _normalizer;
        }

        var score = 1.0 / (depth + 1);
        var dims = _dims;
        ref var box = ref MemoryMarshal.GetArrayDataReference(_box);
        for (var k = depth - 1; k >= 0; k--)
        {
            var offset = path[k] * 2 * dims;
            double newRange = 0, difference = 0;
            for (var i = 0; i < dims; i++)
            {
                double lo = Unsafe.Add(ref box, offset + i);
                double hi = Unsafe.Add(ref box, offset + dims + i);
                double x = point[i];
                if (x < lo)
                {
                    difference += lo - x;
                    newRange += hi - x;
                }
                else if (x > hi)
                {
                    difference += x - hi;
                    newRange += x - lo;
                }
                else
                {
                    newRange += hi - lo;
                }
            }
            if (difference <= 0)
            {
                break;
            }
            var probability = difference / newRange;
            score = probability / (k + 1) + (1 - probability) * score;
        }
        return score * _normalizer;
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
                ref var node = ref _nodes[n];
                ChildBox(node.Left == child ? node.Right : node.Left, out var sMin, out var sMax);
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
