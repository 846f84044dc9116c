using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ReviewOrleans.Gateway;

/// <summary>
/// The API keys a gateway accepts (<c>Gateway:ApiKeys</c>). Each entry is <c>sha256:&lt;hex&gt;</c>, the SHA-256 of
/// the key (for files in source control or on disk), or the key itself (for the environment, e.g.
/// <c>Gateway__ApiKeys__0</c>). Only the hashes are kept, and a presented key is hashed and compared in constant time.
/// </summary>
public sealed class ApiKeySet
{
    public const string Setting = "Gateway:ApiKeys";

    /// <summary>Shortest key taken as given: a short key can be guessed by whoever can reach the port.</summary>
    public const int MinimumKeyLength = 16;

    private const string HashPrefix = "sha256:";

    private readonly byte[][] _hashes;

    private ApiKeySet(byte[][] hashes) => _hashes = hashes;

    /// <summary>Whether any key is configured: then every call but health checks must present one.</summary>
    public bool Required => _hashes.Length > 0;

    /// <exception cref="OptionsValidationException">An entry that is neither a well-formed hash nor a long enough key; names the entry.</exception>
    public static ApiKeySet From(IConfiguration config)
    {
        var section = config.GetSection(Setting);
        var hashes = new List<byte[]>();
        foreach (var entry in section.GetChildren())
        {
            hashes.Add(Parse($"{Setting}:{entry.Key}", entry.Value ?? ""));
        }
        // A single value (Gateway:ApiKeys=key, e.g. from a command line) rather than a list.
        if (hashes.Count == 0 && section.Value is { Length: > 0 } single)
        {
            hashes.Add(Parse(Setting, single));
        }
        return new ApiKeySet([.. hashes]);
    }

    /// <summary>Whether <paramref name="key"/> is one of the configured keys.</summary>
    public bool Accepts(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        var accepted = false;
        foreach (var candidate in _hashes)
        {
            // Every entry is compared, so the time taken does not say which one matched.
            accepted |= CryptographicOperations.FixedTimeEquals(hash, candidate);
        }
        return accepted;
    }

    /// <summary>The form of an entry for a file: <c>sha256:</c> and the key's hash in lower-case hex.</summary>
    public static string HashEntry(string key) => HashPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static byte[] Parse(string name, string value)
    {
        if (value.StartsWith(HashPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var hex = value[HashPrefix.Length..];
            try
            {
                return hex.Length == 2 * SHA256.HashSizeInBytes
                    ? Convert.FromHexString(hex)
                    : throw Invalid(name, $"holds {hex.Length} hex digits after 'sha256:'; a SHA-256 has {2 * SHA256.HashSizeInBytes}");
            }
            catch (FormatException)
            {
                throw Invalid(name, "is not hex after 'sha256:'");
            }
        }
        if (value.Length < MinimumKeyLength)
        {
            throw Invalid(name, $"is a key of {value.Length} characters; keys must have at least {MinimumKeyLength} (e.g. from `openssl rand -hex 32`)");
        }
        return SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    private static OptionsValidationException Invalid(string name, string message) =>
        new(name, typeof(string), [$"{name} {message}"]);
}
