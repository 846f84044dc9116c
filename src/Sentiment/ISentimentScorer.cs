namespace ReviewOrleans.Sentiment;

/// <summary>
/// Scores batches of review texts with one sentiment model. Implementations are thread-safe: the ONNX Runtime
/// session is created once and shared, and the input buffers come from a pool, so concurrent callers never
/// allocate per review beyond the results they ask for.
/// </summary>
public interface ISentimentScorer : IDisposable
{
    /// <summary>The model this scorer runs; every <see cref="SentimentResult"/> it returns references this instance.</summary>
    SentimentModelInfo Model { get; }

    /// <summary>
    /// Scores <paramref name="texts"/> into <paramref name="results"/>[0..texts.Count). A batch up to
    /// <see cref="SentimentScorerOptions.MaxBatchSize"/> is one ONNX Runtime Run; a larger batch is split.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="texts"/>, or a text is null.</exception>
    void Score(IReadOnlyList<string> texts, Span<SentimentResult> results);

    /// <summary>Scores <paramref name="texts"/> into a new array, one result per text, in order.</summary>
    SentimentResult[] Score(IReadOnlyList<string> texts);
}
