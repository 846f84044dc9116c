namespace ReviewOrleans.Sentiment;

/// <summary>Runtime settings of a scorer; they never change what a model predicts, only how fast.</summary>
public sealed record SentimentScorerOptions
{
    /// <summary>ONNX Runtime threads used inside one operator (default 1: callers parallelise across batches instead).</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>ONNX Runtime threads used across independent operators (default 1).</summary>
    public int InterOpThreads { get; init; } = 1;

    /// <summary>Largest batch run at once; larger calls are split into batches of this size (default 256).</summary>
    public int MaxBatchSize { get; init; } = 256;

    internal void Validate()
    {
        if (IntraOpThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "must be at least 1");
        }
        if (InterOpThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InterOpThreads), InterOpThreads, "must be at least 1");
        }
        if (MaxBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "must be at least 1");
        }
    }
}
