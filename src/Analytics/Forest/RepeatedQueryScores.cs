using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ReviewOrleans.Analytics.Forest;

/// <summary>
/// Chunk score sums (<see cref="RandomCutTree.ScoreChunk"/>) of the last few distinct queries, reused while none of
/// the chunk's trees has changed. A stream of discrete values, such as the star rating that KDA's
/// <c>RANDOM_CUT_FOREST</c> was fed in the reference pipeline, repeats a handful of queries, while only about one
/// tree in a hundred takes each point; so most chunks of a repeated query are unchanged and need no descent. A
/// forest score is the chunk sums added in chunk order, so reusing a sum gives the same bits as computing it.
/// </summary>
internal sealed class RepeatedQueryScores
{
    /// <summary>Queries remembered: five star values and a few others fit; a continuous stream misses every time.</summary>
    private const int Entries = 8;

    private readonly int _dims;
    private readonly int _chunks;
    private readonly float[] _queries; // Entries × dims
    private readonly double[] _sums; // Entries × chunks
    private readonly long[] _computedAt; // Entries × chunks: the chunk's change count when its sum was computed
    private readonly long[] _changes; // per chunk: trees changed so far, starting at 1 so that 0 means "never computed"
    private readonly int[] _chunkOfTree;
    private int _entries;
    private int _nextVictim;

    public RepeatedQueryScores(int dims, int trees)
    {
        _dims = dims;
        _chunks = RandomCutTree.ChunkCount(trees);
        _queries = new float[Entries * dims];
        _sums = new double[Entries * _chunks];
        _computedAt = new long[Entries * _chunks];
        _changes = new long[_chunks];
        _changes.AsSpan().Fill(1);
        _chunkOfTree = new int[trees];
        for (var c = 0; c < _chunks; c++)
        {
            var (first, count) = RandomCutTree.Chunk(trees, c);
            _chunkOfTree.AsSpan(first, count).Fill(c);
        }
    }

    /// <summary>Chunk sums taken from memory instead of computed, since the forest was made (for tests).</summary>
    internal long Reused { get; private set; }

    /// <summary>
    /// Records that tree <paramref name="tree"/> changed. Trees of different chunks may change on different threads
    /// (the batch path), each chunk's count on one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void TreeChanged(int tree) => _changes[_chunkOfTree[tree]]++;

    /// <summary>Every remembered sum is stale: the trees were replaced wholesale (<see cref="RandomCutForest.CopyFrom"/>).</summary>
    public void AllTreesChanged()
    {
        for (var c = 0; c < _changes.Length; c++)
        {
            _changes[c]++;
        }
    }

    /// <summary>The sum over <paramref name="trees"/> of their scores of <paramref name="query"/>, chunk by chunk in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double Sum(RandomCutTree[] trees, ReadOnlySpan<float> query)
    {
        var entry = Find(query);
        if (entry < 0)
        {
            entry = _nextVictim;
            _nextVictim = (_nextVictim + 1) % Entries;
            _entries = Math.Max(_entries, entry + 1);
            query.CopyTo(_queries.AsSpan(entry * _dims, _dims));
            _computedAt.AsSpan(entry * _chunks, _chunks).Clear();
        }
        var sums = _sums.AsSpan(entry * _chunks, _chunks);
        var computedAt = _computedAt.AsSpan(entry * _chunks, _chunks);
        double total = 0;
        for (var c = 0; c < sums.Length; c++)
        {
            if (computedAt[c] != _changes[c])
            {
                sums[c] = RandomCutTree.ScoreChunk(trees, c, query);
                computedAt[c] = _changes[c];
            }
            else
            {
                Reused++;
            }
            total += sums[c];
        }
        return total;
    }

    /// <summary>
    /// For the batch API, which runs each chunk over a whole batch: for each record, the latest earlier record of
    /// the batch with the same query bits, or −1; a chunk takes that record's sum if none of its trees changed since.
    /// A 256-slot table by hash rather than a dictionary: a few distinct values (star ratings) all fit, and a
    /// continuous stream, which never repeats, pays one hash and one comparison per record.
    /// </summary>
    public static void PreviousOccurrences(float[] queries, int count, int treeDims, Span<int> previous)
    {
        const int Slots = 256;
        Span<int> latest = stackalloc int[Slots];
        latest.Fill(-1);
        for (var i = 0; i < count; i++)
        {
            var query = MemoryMarshal.AsBytes(queries.AsSpan(i * treeDims, treeDims));
            ref var slot = ref latest[(int)(XxHash3.HashToUInt64(query) % Slots)];
            previous[i] = slot >= 0 && query.SequenceEqual(MemoryMarshal.AsBytes(queries.AsSpan(slot * treeDims, treeDims))) ? slot : -1;
            slot = i;
        }
    }

    /// <summary>The entry holding exactly these bits (so −0 and +0 are different queries), or −1.</summary>
    private int Find(ReadOnlySpan<float> query)
    {
        var bits = MemoryMarshal.Cast<float, int>(query);
        var stored = MemoryMarshal.Cast<float, int>(_queries.AsSpan());
        for (var e = 0; e < _entries; e++)
        {
            if (bits.SequenceEqual(stored.Slice(e * _dims, _dims)))
            {
                return e;
            }
        }
        return -1;
    }
}
