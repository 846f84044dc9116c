using System.Globalization;

namespace ReviewOrleans.ReviewCtl;

/// <summary>
/// Parsed command line of one reviewctl command: positional arguments, <c>--name value</c> options and
/// <c>--flag</c> switches. Every command parses through this type so that options behave the same everywhere.
/// </summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/>; <paramref name="flags"/> names the options that take no value.</summary>
    public CommandLine(IReadOnlyList<string> args, params string[] flags)
    {
        var flagSet = new HashSet<string>(flags, StringComparer.Ordinal) { "json", "help" };
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var name = arg[2..];
                string? value = null;
                var eq = name.IndexOf('=');
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                else if (!flagSet.Contains(name))
                {
                    if (i + 1 >= args.Count)
                    {
                        throw new CommandLineException($"option --{name} needs a value");
                    }
                    value = args[++i];
                }
                _options[name] = value;
            }
            else
            {
                Positionals.Add(arg);
            }
        }
    }

    /// <summary>Arguments that are not options, in order.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>Whether <c>--json</c> was given.</summary>
    public bool Json => Flag("json");

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.ContainsKey(name);
    }

    public string? String(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v : null;
    }

    public string String(string name, string defaultValue) => String(name) ?? defaultValue;

    public int Int(string name, int defaultValue) => Parse(name, defaultValue, static s =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

    public long Long(string name, long defaultValue) => Parse(name, defaultValue, static s =>
        long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

    public double Double(string name, double defaultValue) => Parse(name, defaultValue, static s =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null);

    /// <summary>Fails on any option that the command never asked for, so a typo is not silently ignored.</summary>
    public void RejectUnknownOptions()
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new CommandLineException("unknown option(s): " + string.Join(", ", unknown.Select(u => "--" + u)));
        }
    }

    private T Parse<T>(string name, T defaultValue, Func<string, T?> parse) where T : struct
    {
        var text = String(name);
        if (text is null)
        {
            return defaultValue;
        }
        return parse(text) ?? throw new CommandLineException($"option --{name}: '{text}' is not a valid {typeof(T).Name}");
    }
}

/// <summary>A usage error: reviewctl prints the message and exits with code 2.</summary>
public sealed class CommandLineException(string message) : Exception(message);
