namespace ReviewOrleans.Platform.Tests;

/// <summary>A temporary folder for a test's state (a SQLite file, say), deleted on dispose.</summary>
public sealed class ScratchDirectory(string prefix) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // SQLite's pooled connections may still hold a file briefly; the temp folder is disposable anyway.
        }
    }
}
