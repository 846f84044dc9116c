namespace ReviewOrleans.Sentiment;

/// <summary>Identity of a loaded sentiment model, read from its manifest (model.json).</summary>
/// <param name="Id">Stable model name, e.g. <c>sentiment-fast</c>.</param>
/// <param name="Version">Model version string; changes whenever the weights change.</param>
/// <param name="Kind"><see cref="FastTextKind"/> or <see cref="BertKind"/>.</param>
public sealed record SentimentModelInfo(string Id, string Version, string Kind)
{
    /// <summary>Kind of the hashed word/bigram bag-of-embeddings model (the default).</summary>
    public const string FastTextKind = "fasttext";

    /// <summary>Kind of a BERT-style sequence classifier (input_ids, attention_mask, optional token_type_ids).</summary>
    public const string BertKind = "bert";

    /// <summary>Full path of the manifest the model was loaded from, or null when built in memory.</summary>
    public string? ManifestPath { get; init; }

    /// <summary>Maximum number of tokens per text the model reads; longer texts are truncated to their first tokens.</summary>
    public int MaxTokens { get; init; }
}
