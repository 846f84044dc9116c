namespace ReviewOrleans.Analytics.Tests.SharedData;

/// <summary>
/// Finds the read-only <c>shared/</c> folder that sits beside the repository root (/work/shared for /work/main;
/// in CI a copy beside the fresh clone). The repository root is the nearest ancestor of the test binaries that
/// holds Directory.Packages.props.
/// </summary>
internal static class SharedDataLocator
{
    private static readonly Lazy<string?> Root = new(Find);

    /// <summary>The shared folder, or null when it is absent.</summary>
    public static string? SharedRoot => Root.Value;

    /// <summary>Full path of <paramref name="relative"/> under shared/, or null when shared/ or that path is absent.</summary>
    public static string? Resolve(string relative)
    {
        if (SharedRoot is null)
        {
            return null;
        }
        var path = Path.Combine(SharedRoot, relative);
        return File.Exists(path) || Directory.Exists(path) ? path : null;
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
            {
                var parent = dir.Parent?.FullName;
                if (parent is null)
                {
                    return null;
                }
                var shared = Path.Combine(parent, "shared");
                return Directory.Exists(Path.Combine(shared, "anchors")) || Directory.Exists(Path.Combine(shared, "data"))
                    ? shared
                    : null;
            }
        }
        return null;
    }
}

/// <summary>
/// A fact that needs a path under ../shared/; it is skipped, with a message naming the missing path, when that
/// path is absent (xunit 2 has no dynamic skip, so the decision is made when the attribute is constructed).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SharedDataFactAttribute : FactAttribute
{
    /// <param name="relativePath">Path under shared/, e.g. "anchors/rcf".</param>
    public SharedDataFactAttribute(string relativePath)
    {
        if (SharedDataLocator.Resolve(relativePath) is null)
        {
            Skip = $"Shared reference data '{relativePath}' was not found beside the repository root "
                + "(expected ../shared/" + relativePath + "); this test checks against it and is skipped without it.";
        }
    }
}
