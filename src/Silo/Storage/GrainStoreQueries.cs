namespace ReviewOrleans.Silo.Storage;

/// <summary>
/// The parts of the grain stores' queries that SQLite and PostgreSQL write alike. Absent key extensions are stored as
/// '' in both, so that a primary key can hold them (NULLs never conflict).
/// </summary>
internal static class GrainStoreQueries
{
    /// <summary>The row of one grain's state, by Orleans' query parameters.</summary>
    public const string KeyMatch = """
        ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0
            AND GrainIdN1 = @GrainIdN1 AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '')
        """;

    /// <summary>Orleans' ReadFromStorageKey.</summary>
    public const string Read = $"""
        SELECT PayloadBinary, Version
        FROM OrleansStorage
        WHERE {KeyMatch};
        """;
}
