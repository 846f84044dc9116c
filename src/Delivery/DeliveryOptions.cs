namespace ReviewOrleans.Delivery;

/// <summary>
/// The <c>Delivery</c> section: where scored reviews go and how they are buffered. No destination, no delivery (the
/// embedded profile's default); the cluster profile turns the PostgreSQL one on.
/// </summary>
public sealed class DeliveryOptions
{
    public const string SectionName = "Delivery";

    /// <summary>Rows into the <c>scored_reviews</c> table of the platform's PostgreSQL (or <see cref="PostgresConnectionString"/>).</summary>
    public bool PostgreSQL { get; set; }

    /// <summary>Another database than the cluster's, if wanted.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Gzip JSON-lines files under this folder (<c>yyyy/MM/dd/HH/</c> prefixes); none when empty.</summary>
    public string? FilesPath { get; set; }

    /// <summary>A file is closed and a new one begun past this many compressed bytes…</summary>
    public long FileMaxBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>… or this long after it was begun.</summary>
    public TimeSpan FileMaxAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A destination is written once this much is buffered for it (Firehose's 1 MB)…</summary>
    public int BatchBytes { get; set; } = 1024 * 1024;

    /// <summary>… or once the oldest buffered record is this old (Firehose's 60 s).</summary>
    public TimeSpan BatchAge { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Past this much buffered for a destination, the anomaly shards feeding it wait: back-pressure.</summary>
    public long MaxBufferBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The first wait after a failed write; it doubles per failure up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Records a destination has not taken this long after they were buffered are written to the errors store and
    /// reported as a dead letter with the last failure, instead of holding the pipeline back for good.
    /// </summary>
    public TimeSpan DeadLetterAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The errors store: gzip JSON lines with an "error" field. Default: <c>errors/</c> under <see cref="FilesPath"/>, else <c>data/delivery-errors</c>.</summary>
    public string? ErrorsPath { get; set; }

    public bool Enabled => PostgreSQL || !string.IsNullOrEmpty(FilesPath);

    public string ResolvedErrorsPath => Path.GetFullPath(
        !string.IsNullOrEmpty(ErrorsPath) ? ErrorsPath
        : !string.IsNullOrEmpty(FilesPath) ? Path.Combine(FilesPath, "errors")
        : Path.Combine("data", "delivery-errors"));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        Require(FileMaxBytes > 0, nameof(FileMaxBytes), "must be positive");
        Require(FileMaxAge > TimeSpan.Zero, nameof(FileMaxAge), "must be positive");
        Require(BatchBytes > 0, nameof(BatchBytes), "must be positive");
        Require(BatchAge > TimeSpan.Zero, nameof(BatchAge), "must be positive");
        Require(MaxBufferBytes >= BatchBytes, nameof(MaxBufferBytes), "must be at least BatchBytes");
        Require(RetryInitialDelay > TimeSpan.Zero, nameof(RetryInitialDelay), "must be positive");
        Require(RetryMaxDelay >= RetryInitialDelay, nameof(RetryMaxDelay), "must be at least RetryInitialDelay");
        Require(DeadLetterAfter > TimeSpan.Zero, nameof(DeadLetterAfter), "must be positive");
    }

    private static void Require(bool condition, string name, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"{SectionName}:{name} {message}", name);
        }
    }
}
