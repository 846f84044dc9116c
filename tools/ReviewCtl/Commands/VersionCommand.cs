using System.Reflection;

namespace ReviewOrleans.ReviewCtl.Commands;

internal static class VersionCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args);
        cl.RejectUnknownOptions();
        Console.WriteLine(typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
        return Task.FromResult(0);
    }
}
