namespace ReviewOrleans.Analytics.Forest;

internal sealed partial class RandomCutTree
{
    private const ushort NullReference = ushort.MaxValue;

    /// <summary>
    /// Writes the live structure: free lists (so slot reuse continues identically), live internal nodes' cuts and
    /// children, live leaves' points and masses. Parents, masses and boxes are derived data, rebuilt on read.
    /// </summary>
    internal void Write(ref StateWriter writer)
    {
        writer.WriteUInt16(_root == Null ? NullReference : (ushort)_root);
        writer.WriteInt32(_freeNodeCount);
        for (var i = 0; i < _freeNodeCount; i++)
        {
            writer.WriteUInt16((ushort)_freeNodes[i]);
        }
        writer.WriteInt32(_freeLeafCount);
        for (var i = 0; i < _freeLeafCount; i++)
        {
            writer.WriteUInt16((ushort)_freeLeaves[i]);
        }
        var freeNode = FreeMask(_freeNodes, _freeNodeCount, _capacity - 1);
        for (var n = 0; n < _capacity - 1; n++)
        {
            if (!freeNode[n])
            {
                writer.WriteUInt16((ushort)Left(n));
                writer.WriteUInt16((ushort)Right(n));
                writer.WriteUInt16((ushort)Dim(n));
                writer.WriteSingle(Cut(n));
            }
        }
        var freeLeaf = FreeMask(_freeLeaves, _freeLeafCount, _capacity);
        for (var s = 0; s < _capacity; s++)
        {
            if (!freeLeaf[s])
            {
                writer.WriteUInt16((ushort)_leafMass[s]);
                foreach (var v in LeafPoint(s))
                {
                    writer.WriteSingle(v);
                }
            }
        }
    }

    internal void Read(ref StateReader reader)
    {
        var root = reader.ReadUInt16();
        _root = root == NullReference ? Null : IsReference(root) ? root : throw StateReader.Corrupt($"tree root {root} is out of range");
        _freeNodeCount = reader.ReadInt32(0, _capacity - 1, "free node count");
        for (var i = 0; i < _freeNodeCount; i++)
        {
            _freeNodes[i] = reader.ReadUInt16(_capacity - 2, "free node");
        }
        _freeLeafCount = reader.ReadInt32(0, _capacity, "free leaf count");
        for (var i = 0; i < _freeLeafCount; i++)
        {
            _freeLeaves[i] = reader.ReadUInt16(_capacity - 1, "free leaf");
        }
        var freeNode = FreeMask(_freeNodes, _freeNodeCount, _capacity - 1);
        for (var n = 0; n < _capacity - 1; n++)
        {
            Node(n) = default;
            BoxMin(n).Clear();
            BoxMax(n).Clear();
            if (!freeNode[n])
            {
                Left(n) = ReadReference(ref reader);
                Right(n) = ReadReference(ref reader);
                Dim(n) = reader.ReadUInt16(_dims - 1, "cut dimension");
                Cut(n) = reader.ReadFiniteSingle("cut");
            }
        }
        var freeLeaf = FreeMask(_freeLeaves, _freeLeafCount, _capacity);
        Array.Clear(_leafPoint);
        for (var s = 0; s < _capacity; s++)
        {
            _leafMass[s] = 0;
            if (!freeLeaf[s])
            {
                _leafMass[s] = reader.ReadUInt16(_capacity, "leaf mass");
                var point = LeafPoint(s);
                for (var i = 0; i < _dims; i++)
                {
                    point[i] = reader.ReadFiniteSingle("leaf coordinate");
                }
            }
        }
        RebuildDerived(freeNode, freeLeaf);
    }

    /// <summary>Internal nodes are 0..capacity-2 and leaves capacity..2·capacity-1; capacity-1 names neither.</summary>
    private bool IsReference(int reference) => reference < _capacity - 1 || (reference >= _capacity && reference < 2 * _capacity);

    private ushort ReadReference(ref StateReader reader)
    {
        var reference = reader.ReadUInt16();
        return IsReference(reference) ? reference : throw StateReader.Corrupt($"child reference {reference} is out of range");
    }

    private static bool[] FreeMask(int[] free, int count, int length)
    {
        var mask = new bool[length];
        for (var i = 0; i < count; i++)
        {
            if (mask[free[i]])
            {
                throw StateReader.Corrupt($"slot {free[i]} is listed free twice");
            }
            mask[free[i]] = true;
        }
        return mask;
    }

    /// <summary>Rebuilds parents, masses and boxes from the saved structure and checks that it is one tree.</summary>
    private void RebuildDerived(bool[] freeNode, bool[] freeLeaf)
    {
        Array.Clear(_nodeMass);
        var liveNodes = freeNode.Count(f => !f);
        var liveLeaves = freeLeaf.Count(f => !f);
        if (_root == Null)
        {
            if (liveNodes != 0 || liveLeaves != 0)
            {
                throw StateReader.Corrupt("an empty tree has live slots");
            }
            SetMass(0);
            return;
        }
        if (liveLeaves != liveNodes + 1)
        {
            throw StateReader.Corrupt($"{liveLeaves} live leaves do not fit {liveNodes} internal nodes");
        }

        var order = new List<int>(liveNodes);
        var stack = new Stack<int>();
        var seenNode = new bool[_capacity - 1];
        var seenLeaf = new bool[_capacity];
        stack.Push(_root);
        SetParent(_root, Null);
        while (stack.Count > 0)
        {
            var r = stack.Pop();
            if (r >= _capacity)
            {
                var s = r - _capacity;
                if (freeLeaf[s] || seenLeaf[s])
                {
                    throw StateReader.Corrupt($"leaf {s} is free or reached twice");
                }
                seenLeaf[s] = true;
                continue;
            }
            if (freeNode[r] || seenNode[r])
            {
                throw StateReader.Corrupt($"node {r} is free or reached twice");
            }
            seenNode[r] = true;
            order.Add(r);
            var (left, right) = (Left(r), Right(r));
            SetParent(left, r);
            SetParent(right, r);
            stack.Push(left);
            stack.Push(right);
        }
        if (order.Count != liveNodes)
        {
            throw StateReader.Corrupt("some live nodes are not reachable from the root");
        }

        var total = 0;
        for (var s = 0; s < _capacity; s++)
        {
            if (!freeLeaf[s])
            {
                if (_leafMass[s] < 1)
                {
                    throw StateReader.Corrupt($"live leaf {s} has mass 0");
                }
                total += _leafMass[s];
            }
        }
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var n = order[i];
            _nodeMass[n] = MassOf(Left(n)) + MassOf(Right(n));
            ChildBox(Left(n), out var lMin, out var lMax);
            ChildBox(Right(n), out var rMin, out var rMax);
            // Every point on the left is at most the cut and every point on the right above it; descents and
            // inserts rely on it.
            var dim = Dim(n);
            if (!(lMax[dim] <= Cut(n) && Cut(n) < rMin[dim]))
            {
                throw StateReader.Corrupt($"node {n}'s cut does not separate its children");
            }
            var min = BoxMin(n);
            var max = BoxMax(n);
            for (var d = 0; d < _dims; d++)
            {
                min[d] = Math.Min(lMin[d], rMin[d]);
                max[d] = Math.Max(lMax[d], rMax[d]);
            }
        }
        SetMass(total);
    }

    /// <summary>
    /// Checks that the sampler's entries name this tree's live leaves, each leaf as many times as its mass (a
    /// duplicate point is one leaf with one sample entry per copy), so that evictions remove what was sampled.
    /// </summary>
    internal void CheckSample(ReadOnlySpan<int> sampledLeaves)
    {
        var entries = new int[_capacity];
        foreach (var slot in sampledLeaves)
        {
            entries[slot]++;
        }
        for (var s = 0; s < _capacity; s++)
        {
            if (entries[s] != _leafMass[s])
            {
                throw StateReader.Corrupt($"leaf {s} has mass {_leafMass[s]} but {entries[s]} sample entries");
            }
        }
    }
}
