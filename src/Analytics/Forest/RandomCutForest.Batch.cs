using System.Runtime.CompilerServices;

namespace ReviewOrleans.Analytics.Forest;

public sealed partial class RandomCutForest
{
    /// <summary>
    /// Scores then adds each record of <paramref name="points"/> (<see cref="RandomCutForestOptions.Dimensions"/>
    /// values per record, in stream order), writing one score per record to <paramref name="scores"/>. The results,
    /// and the forest afterwards, are bit-for-bit those of calling <see cref="ScoreAndUpdate(ReadOnlySpan{double})"/>
    /// for each record: trees never interact, so groups of trees can run the whole batch on separate threads, and
    /// every score is summed chunk by chunk in the same order as in the one-record path.
    /// </summary>
    /// <param name="maxDegreeOfParallelism">Threads to use; 1 runs on the caller's thread.</param>
    /// <exception cref="ArgumentException">
    /// The length is not a multiple of Dimensions, <paramref name="scores"/> is too short, or a value is NaN,
    /// infinite or beyond single precision (nothing is added then).
    /// </exception>
    public void ScoreAndUpdate(ReadOnlySpan<double> points, Span<double> scores, int maxDegreeOfParallelism = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, 1);
        if (points.Length % _dims != 0)
        {
            throw new ArgumentException(
                $"The batch has {points.Length} values, which is not a whole number of records of Dimensions = {_dims}.", nameof(points));
        }
        var count = points.Length / _dims;
        if (scores.Length < count)
        {
            throw new ArgumentException($"The batch has {count} records but only {scores.Length} score slots.", nameof(scores));
        }
        for (var i = 0; i < count; i++)
        {
            try
            {
                Check(points.Slice(i * _dims, _dims));
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"Record {i} of the batch: {ex.Message}", nameof(points), ex);
            }
        }
        if (count == 0)
        {
            return;
        }

        // Sequential part: the stream-level state each record sees (shingle, warm-up, sequence index).
        var buffers = _batch ??= new BatchBuffers();
        buffers.EnsureCapacity(count, _treeDims, RandomCutTree.ChunkCount(_trees.Length));
        var (queries, warm, sequence) = (buffers.Queries, buffers.Warm, buffers.Sequence);
        for (var i = 0; i < count; i++)
        {
            BuildQuery(points.Slice(i * _dims, _dims));
            _query.CopyTo(queries, i * _treeDims);
            warm[i] = IsWarm && _inserted > 0;
            sequence[i] = -1;
            PointsSeen++;
            Array.Copy(_query, _shingle, _treeDims);
            if (_shingleFill < _shingleSize)
            {
                _shingleFill++;
                if (_shingleFill < _shingleSize)
                {
                    continue;
                }
            }
            sequence[i] = _inserted++;
        }

        // Per chunk of trees: the whole batch, score before update, as the one-record path does per record.
        var chunks = RandomCutTree.ChunkCount(_trees.Length);
        var chunkSums = buffers.Sums;
        RepeatedQueryScores.PreviousOccurrences(queries, count, _treeDims, buffers.Previous);
        var work = new ChunkWork(this, queries, warm, sequence, buffers.Previous, chunkSums, count, chunks);
        RunChunks(chunks, maxDegreeOfParallelism, work.Run);

        for (var i = 0; i < count; i++)
        {
            double sum = 0;
            for (var c = 0; c < chunks; c++)
            {
                sum += chunkSums[i * chunks + c];
            }
            scores[i] = warm[i] ? sum / _trees.Length : 0;
        }
    }

    /// <summary>
    /// Runs <paramref name="run"/> for every chunk of trees, on up to <paramref name="maxDegreeOfParallelism"/>
    /// threads. Each worker takes a contiguous run of chunks: the state that neighbouring trees write when they change
    /// (samplers, random states, change counters) then shares cache lines across threads at one boundary only, instead
    /// of between every pair of chunks that Parallel.For would hand out alternately.
    /// </summary>
    private static void RunChunks(int chunks, int maxDegreeOfParallelism, Action<int> run)
    {
        var workers = Math.Min(maxDegreeOfParallelism, chunks);
        if (workers <= 1)
        {
            for (var c = 0; c < chunks; c++)
            {
                run(c);
            }
            return;
        }
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            for (var c = w * chunks / workers; c < (w + 1) * chunks / workers; c++)
            {
                run(c);
            }
        });
    }

    /// <summary>
    /// The batch path's working arrays, kept by the forest and grown as needed: allocated per call, a batch of 4,096
    /// points at 100 trees took about 1 MB from the large object heap, and the background collections that followed
    /// took CPU from the threads scoring the next batch.
    /// </summary>
    private sealed class BatchBuffers
    {
        public float[] Queries = [];
        public bool[] Warm = [];
        public long[] Sequence = [];
        public int[] Previous = [];
        public double[] Sums = [];

        public void EnsureCapacity(int count, int treeDims, int chunks)
        {
            if (Warm.Length < count)
            {
                Queries = new float[count * treeDims];
                Warm = new bool[count];
                Sequence = new long[count];
                Previous = new int[count];
                Sums = new double[count * chunks];
            }
        }
    }

    private sealed class ChunkWork(RandomCutForest forest, float[] queries, bool[] warm, long[] sequence, int[] previous,
        double[] chunkSums, int count, int chunks)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 and its call counting
        public void Run(int chunk)
        {
            var treeDims = forest._treeDims;
            var (first, trees) = RandomCutTree.Chunk(forest._trees.Length, chunk);
            // The batch's counterpart of RepeatedQueryScores: a record equal to an earlier one takes that record's
            // sum while none of this chunk's trees has changed since it was scored.
            var lastChange = -1;
            for (var i = 0; i < count; i++)
            {
                ReadOnlySpan<float> query = queries.AsSpan(i * treeDims, treeDims);
                if (warm[i])
                {
                    var earlier = previous[i];
                    chunkSums[i * chunks + chunk] = earlier > lastChange && warm[earlier]
                        ? chunkSums[earlier * chunks + chunk]
                        : RandomCutTree.ScoreChunk(forest._trees, chunk, query);
                }
                if (sequence[i] >= 0)
                {
                    for (var t = first; t < first + trees; t++)
                    {
                        if (forest.InsertInto(t, query, sequence[i]))
                        {
                            lastChange = i;
                        }
                    }
                }
            }
        }
    }
}
