namespace ReviewOrleans.Sentiment.Training;

/// <summary>Finds the read-only <c>shared/data</c> folder that sits beside the repository (never inside it).</summary>
internal static class SharedDataLocator
{
    /// <summary>
    /// Walks up from <paramref name="start"/> (default <see cref="AppContext.BaseDirectory"/>) and returns the first
    /// <c>shared/data</c> folder found beside an ancestor, or null.
    /// </summary>
    public static string? Find(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
