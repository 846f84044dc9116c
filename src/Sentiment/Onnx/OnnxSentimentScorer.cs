using Microsoft.ML.OnnxRuntime;
using ReviewOrleans.Sentiment.FastText;

namespace ReviewOrleans.Sentiment.Onnx;

/// <summary>
/// What every ONNX-backed scorer shares: the session (created once; <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue})"/>
/// is thread-safe), a pool of per-batch buffers so concurrent callers never share one, batch splitting, and
/// the mapping from the model's output index to star ratings.
/// </summary>
internal abstract class OnnxSentimentScorer<TBuffers> : ISentimentScorer
    where TBuffers : class
{
    private readonly int[] _outputIndexOfStar = new int[SentimentResult.StarCount];
    private readonly bool _outputIsLogits;
    private readonly Stack<TBuffers> _pool = new(); // also the lock for _active and _disposed
    private int _active; // Score calls in flight: the session outlives them even when Dispose comes first
    private bool _disposed;

    protected OnnxSentimentScorer(SentimentModelManifest manifest, SentimentScorerOptions options, string[] requiredInputs, string[] optionalInputs)
    {
        Manifest = manifest;
        MaxBatchSize = options.MaxBatchSize;
        _outputIsLogits = manifest.OutputIsLogits;
        for (var i = 0; i < manifest.StarsByOutputIndex.Length; i++)
        {
            _outputIndexOfStar[manifest.StarsByOutputIndex[i] - 1] = i;
        }
        Model = new SentimentModelInfo(manifest.Id, manifest.Version, manifest.Kind)
        {
            ManifestPath = manifest.ManifestPath,
            MaxTokens = manifest.MaxTokens,
        };
        Session = CreateSession(manifest, options);
        try
        {
            CheckInputs(requiredInputs, optionalInputs);
            CheckOutput();
        }
        catch
        {
            Session.Dispose();
            throw;
        }
    }

    public SentimentModelInfo Model { get; }

    protected SentimentModelManifest Manifest { get; }

    protected InferenceSession Session { get; }

    internal int MaxBatchSize { get; }

    public SentimentResult[] Score(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var results = new SentimentResult[texts.Count];
        Score(texts, results);
        return results;
    }

    public void Score(IReadOnlyList<string> texts, Span<SentimentResult> results)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (results.Length < texts.Count)
        {
            throw new ArgumentException($"results has room for {results.Length} results but {texts.Count} texts were given", nameof(results));
        }
        if (texts.Count == 0)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return;
        }
        var buffers = Rent();
        try
        {
            Span<float> ordered = stackalloc float[SentimentResult.StarCount];
            for (var start = 0; start < texts.Count; start += MaxBatchSize)
            {
                var count = Math.Min(MaxBatchSize, texts.Count - start);
                var output = RunBatch(texts, start, count, buffers);
                for (var i = 0; i < count; i++)
                {
                    var row = output.Slice(i * SentimentResult.StarCount, SentimentResult.StarCount);
                    for (var s = 0; s < SentimentResult.StarCount; s++)
                    {
                        ordered[s] = row[_outputIndexOfStar[s]];
                    }
                    if (_outputIsLogits)
                    {
                        FastTextModel.Softmax(ordered);
                    }
                    results[start + i] = new SentimentResult(ordered, Model);
                }
            }
        }
        finally
        {
            Return(buffers);
        }
    }

    /// <summary>
    /// Releases the session and the pooled buffers. Calls already running finish first: the last of them releases
    /// the session; calls made afterwards throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        bool releaseSession;
        lock (_pool)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            while (_pool.Count > 0)
            {
                (_pool.Pop() as IDisposable)?.Dispose(); // the RunOptions each buffer set holds is a native handle
            }
            releaseSession = _active == 0;
        }
        if (releaseSession)
        {
            Session.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Score calls in flight (for tests of disposal while scoring).</summary>
    internal int ActiveCalls
    {
        get
        {
            lock (_pool)
            {
                return _active;
            }
        }
    }

    /// <summary>Tokenizes texts[start..start+count) into <paramref name="buffers"/>, runs the session once and
    /// returns the [count, 5] output in model order.</summary>
    protected abstract ReadOnlySpan<float> RunBatch(IReadOnlyList<string> texts, int start, int count, TBuffers buffers);

    protected abstract TBuffers CreateBuffers();

    protected static string TextAt(IReadOnlyList<string> texts, int index) =>
        texts[index] ?? throw new ArgumentException($"text {index} is null", nameof(texts));

    /// <summary>Fails unless the model has exactly the required inputs (plus any optional ones).</summary>
    private void CheckInputs(string[] required, string[] optional)
    {
        var actual = Session.InputMetadata.Keys.ToHashSet(StringComparer.Ordinal);
        var missing = required.Where(r => !actual.Contains(r)).ToList();
        var unexpected = actual.Where(a => !required.Contains(a) && !optional.Contains(a)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new SentimentModelException(
                $"{Manifest.ModelPath}: wrong input names: the model has inputs [{string.Join(", ", actual.Order())}]; a {Manifest.Kind} model needs " +
                $"[{string.Join(", ", required)}]" + (optional.Length > 0 ? $" and optionally [{string.Join(", ", optional)}]" : ""));
        }
    }

    private void CheckOutput()
    {
        if (!Session.OutputMetadata.TryGetValue(Manifest.OutputName, out var output))
        {
            throw new SentimentModelException(
                $"{Manifest.ModelPath}: the manifest names output '{Manifest.OutputName}' but the model's outputs are [{string.Join(", ", Session.OutputMetadata.Keys)}]");
        }
        var dims = output.Dimensions;
        if (dims.Length != 2)
        {
            throw new SentimentModelException($"{Manifest.ModelPath}: output '{Manifest.OutputName}' has rank {dims.Length}; expected [batch, {SentimentResult.StarCount}]");
        }
        if (dims[1] > 0 && dims[1] != Manifest.StarsByOutputIndex.Length)
        {
            throw new SentimentModelException(
                $"{Manifest.ModelPath}: label count mismatch: output '{Manifest.OutputName}' has {dims[1]} classes but the manifest's id2label has {Manifest.StarsByOutputIndex.Length} labels");
        }
    }

    private static InferenceSession CreateSession(SentimentModelManifest manifest, SentimentScorerOptions options)
    {
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        try
        {
            return new InferenceSession(manifest.ModelPath, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new SentimentModelException($"{manifest.ModelPath}: ONNX Runtime cannot load the model: {ex.Message}", ex);
        }
    }

    /// <summary>Takes a buffer set for one call and counts the call as running; throws once disposed.</summary>
    private TBuffers Rent()
    {
        lock (_pool)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _active++;
            if (_pool.Count > 0)
            {
                return _pool.Pop();
            }
        }
        try
        {
            return CreateBuffers();
        }
        catch
        {
            Return(null);
            throw;
        }
    }

    /// <summary>Ends a call: pools its buffers, or after Dispose releases them, and the session with the last call.</summary>
    private void Return(TBuffers? buffers)
    {
        bool releaseSession;
        lock (_pool)
        {
            _active--;
            if (!_disposed)
            {
                if (buffers is not null)
                {
                    _pool.Push(buffers);
                }
                return;
            }
            releaseSession = _active == 0;
        }
        (buffers as IDisposable)?.Dispose();
        if (releaseSession)
        {
            Session.Dispose();
        }
    }
}
