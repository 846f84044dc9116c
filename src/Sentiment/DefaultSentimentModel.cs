namespace ReviewOrleans.Sentiment;

/// <summary>Finds the default (fast) sentiment model that ships with the repository under models/sentiment-fast.</summary>
public static class DefaultSentimentModel
{
    /// <summary>Environment variable that overrides where the default model is (a manifest file or its directory).</summary>
    public const string PathVariable = "REVIEWORLEANS_MODEL_PATH";

    /// <summary>Folder of the default model, relative to the application or the repository root.</summary>
    public const string RelativeDirectory = "models/sentiment-fast";

    /// <summary>
    /// Path of the default model's manifest: <c>$REVIEWORLEANS_MODEL_PATH</c> if set; else
    /// <c>models/sentiment-fast/model.json</c> beside the application; else the first such file found walking up
    /// from <see cref="AppContext.BaseDirectory"/> (running from a build folder inside the repository).
    /// </summary>
    /// <exception cref="SentimentModelException">None of these places holds the model.</exception>
    public static string FindPath()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            var candidate = Directory.Exists(fromEnvironment) ? Path.Combine(fromEnvironment, "model.json") : fromEnvironment;
            return File.Exists(candidate)
                ? Path.GetFullPath(candidate)
                : throw new SentimentModelException($"{PathVariable} is '{fromEnvironment}', but no model manifest is there");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativeDirectory, "model.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new SentimentModelException(
            $"default sentiment model not found: set {PathVariable}, or put {RelativeDirectory}/model.json beside the application " +
            $"or in a folder above {AppContext.BaseDirectory}");
    }

    /// <summary>Loads the default model (see <see cref="FindPath"/>).</summary>
    public static ISentimentScorer Load(SentimentScorerOptions? options = null) => SentimentScorerFactory.Load(FindPath(), options);
}
