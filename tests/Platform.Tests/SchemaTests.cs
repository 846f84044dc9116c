using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using ReviewOrleans.Database;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// db/postgresql/ against a real PostgreSQL: applied from nothing and again, every query key Orleans' ADO.NET
/// providers can ask for defined, version checks in both directions, and the shared-settings check.
/// </summary>
public sealed partial class SchemaTests
{
    /// <summary>
    /// The providers whose queries the scripts must define. A provider reads each query by a key that is a string
    /// literal in its assembly (nameof of a property ending in "Key"), so the assembly's user strings list every
    /// key it can ask for, including those of code paths no test reaches (CleanupDefunctSiloEntryKey was missing
    /// from published scripts, and a silo without it never said so).
    /// </summary>
    private static readonly string[] Providers =
    [
        "Orleans.Clustering.AdoNet",
        "Orleans.Reminders.AdoNet",
        "Orleans.Streaming.AdoNet",
        "Orleans.Persistence.AdoNet",
    ];

    public static TheoryData<string> ProviderAssemblies => new(Providers);

    /// <summary>User strings ending in "Key" that are not query keys: the OrleansQuery column, a persistence option's name.</summary>
    private static readonly HashSet<string> NotQueryKeys = ["QueryKey", "SerializerKey"];

    [Theory]
    [MemberData(nameof(ProviderAssemblies))]
    public void EachProviderAssembly_AsksForQueryKeys(string assembly)
    {
        // Guards the reading itself: if a provider stopped keeping its keys as literals, the coverage test below
        // would pass on an empty list.
        Assert.True(QueryKeysOf(assembly).Count >= 4, $"{assembly}: found only {string.Join(", ", QueryKeysOf(assembly))}");
    }

    [PostgresFact]
    public async Task Scripts_DefineEveryQueryKeyTheProvidersAskFor()
    {
        await using var database = await TestDatabase.CreateAsync("keys");
        await PostgresSchema.ApplyAsync(database.ConnectionString);
        var defined = (await database.ColumnAsync("SELECT QueryKey FROM OrleansQuery")).ToHashSet(StringComparer.Ordinal);
        var missing = Providers
            .SelectMany(assembly => QueryKeysOf(assembly).Where(key => !defined.Contains(key)).Select(key => $"{assembly}: {key}"))
            .ToList();
        Assert.True(missing.Count == 0, "db/postgresql/ does not define: " + string.Join("; ", missing));
        Assert.Contains("CleanupDefunctSiloEntryKey", defined);
        Assert.Contains("FailStreamMessageKey", defined);
    }

    [PostgresFact]
    public async Task Apply_FromNothing_ThenAgain_IsIdempotentAndRecordsEachVersion()
    {
        await using var database = await TestDatabase.CreateAsync("apply");
        var first = await PostgresSchema.ApplyAsync(database.ConnectionString);
        Assert.Equal(PostgresSchema.Scripts.Select(s => s.Name), first.Select(s => s.Name));
        var again = await PostgresSchema.ApplyAsync(database.ConnectionString);
        Assert.Empty(again);
        Assert.Equal(PostgresSchema.Scripts.Select(s => s.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            await database.ColumnAsync("SELECT version FROM schema_version ORDER BY version"));
        await PostgresSchema.VerifyAsync(database.ConnectionString);

        // Every script on its own is idempotent too, as their headers promise (a half-upgraded database, a
        // re-run by hand): applying each one again over the complete schema changes nothing and fails nowhere.
        foreach (var script in PostgresSchema.Scripts)
        {
            await database.ExecuteAsync(script.Text);
        }
        Assert.Equal((PostgresSchema.BuildVersion, PostgresSchema.Scripts[^1].Name), await PostgresSchema.ReadVersionAsync(database.ConnectionString));
    }

    [PostgresFact]
    public async Task Verify_OnAnEmptyDatabase_SaysToRunDbInit()
    {
        await using var database = await TestDatabase.CreateAsync("verify");
        var error = await Assert.ThrowsAsync<SchemaException>(() => PostgresSchema.VerifyAsync(database.ConnectionString));
        Assert.Contains("reviewctl db init", error.Message);
        Assert.Contains($"needs {PostgresSchema.BuildVersion}", error.Message);
    }

    [PostgresFact]
    public async Task ADatabaseNewerThanTheBuild_IsRefused_ByApplyAndVerify()
    {
        await using var database = await TestDatabase.CreateAsync("newer");
        await PostgresSchema.ApplyAsync(database.ConnectionString);
        var newer = PostgresSchema.BuildVersion + 1;
        await database.ExecuteAsync($"INSERT INTO schema_version (version, script, sha256) VALUES ({newer}, '{newer:000}-from-the-future.sql', '')");
        foreach (var attempt in new Func<Task>[] { () => PostgresSchema.ApplyAsync(database.ConnectionString), () => PostgresSchema.VerifyAsync(database.ConnectionString) })
        {
            var error = await Assert.ThrowsAsync<SchemaException>(attempt);
            Assert.Contains($"version {newer}", error.Message);
            Assert.Contains("newer than this build", error.Message);
        }
    }

    [Fact]
    public async Task AnUnreachableServer_IsNamedInTheError()
    {
        var port = SiloProcess.FreePort();
        var error = await Assert.ThrowsAsync<SchemaException>(() =>
            PostgresSchema.ApplyAsync($"Host=127.0.0.1;Port={port};Username=nobody;Database=nothing;Timeout=3"));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("'nothing'", error.Message);
    }

    [PostgresFact]
    public async Task ClusterSettings_TheFirstRecords_ADifferentOneIsStoppedWithTheSettingNamed()
    {
        await using var database = await TestDatabase.CreateAsync("settings");
        await PostgresSchema.ApplyAsync(database.ConnectionString);
        await new ClusterSettings(16, 2, 8).RecordOrCompareAsync(database.ConnectionString, "svc", "silo A");
        await new ClusterSettings(16, 2, 8).RecordOrCompareAsync(database.ConnectionString, "svc", "gateway B");
        var error = await Assert.ThrowsAsync<ClusterSettingsMismatchException>(() =>
            new ClusterSettings(8, 2, 4).RecordOrCompareAsync(database.ConnectionString, "svc", "silo C"));
        Assert.Contains("Pipeline:Partitions is 8 here, 16 in the cluster", error.Message);
        Assert.Contains("Streams:Queues is 4 here, 8 in the cluster", error.Message);
        Assert.DoesNotContain("AnomalyShards", error.Message);
        Assert.Contains("silo A", error.Message);
        // Another service in the same database has settings of its own.
        await new ClusterSettings(8, 2, 4).RecordOrCompareAsync(database.ConnectionString, "other", "silo D");
        Assert.True(await ClusterSettings.ForgetAsync(database.ConnectionString, "svc"));
        await new ClusterSettings(8, 2, 4).RecordOrCompareAsync(database.ConnectionString, "svc", "silo C");
    }

    private static List<string> QueryKeysOf(string assemblyName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        var handle = MetadataTokens.UserStringHandle(1);
        while (!handle.IsNil)
        {
            var value = metadata.GetUserString(handle);
            if (KeyName().IsMatch(value) && !NotQueryKeys.Contains(value))
            {
                keys.Add(value);
            }
            handle = metadata.GetNextHandle(handle);
        }
        return [.. keys];
    }

    [GeneratedRegex("^[A-Z][A-Za-z0-9]+Key$")]
    private static partial Regex KeyName();
}
