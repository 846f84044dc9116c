namespace ReviewOrleans.Grains;

/// <summary>Names of the grain storage providers the grains use; the silo registers them.</summary>
public static class StorageNames
{
    /// <summary>The platform's grain state (SQLite by default, PostgreSQL or any ADO.NET store when configured).</summary>
    public const string Default = "reviews";
}
