namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// A test against a real PostgreSQL server, named by the environment variable REVIEWORLEANS_TEST_POSTGRES (an Npgsql
/// connection string; <c>.ci/run</c> starts a server and sets it). Skipped, saying so, where it is not set.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public const string Variable = "REVIEWORLEANS_TEST_POSTGRES";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    public PostgresFactAttribute()
    {
        if (ConnectionString is null)
        {
            Skip = $"{Variable} is not set: no PostgreSQL server to test against (.ci/run starts one and sets it)";
        }
    }
}
