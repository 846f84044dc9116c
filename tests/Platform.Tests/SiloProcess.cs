using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// A real executable of the project — the silo as the README's main command starts it, or the standalone gateway —
/// on free ports and a temp working folder, ready once its /healthz answers, killed when disposed.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly System.Text.StringBuilder _output = new();

    private SiloProcess(Process process, string directory, int grpcPort, int httpPort)
    {
        _process = process;
        _directory = directory;
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}");
        HttpAddress = new Uri($"http://127.0.0.1:{httpPort}");
    }

    public Uri GrpcAddress { get; }

    public Uri HttpAddress { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The orleans gateway port the silo listens on (for a standalone gateway to connect to).</summary>
    public int OrleansGatewayPort { get; private init; }

    public static Task<SiloProcess> StartAsync(params string[] extraArgs)
    {
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        return StartAsync(BuildOutput.Find("src", "Silo", "ReviewOrleans.Silo.dll"), gatewayPort,
            // Later arguments win, so a caller's own settings (a ServiceId, say) override these defaults.
            [$"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", $"--Cluster:ServiceId=silo-process-{Guid.NewGuid():N}", .. extraArgs]);
    }

    /// <summary>The standalone gateway, an Orleans client of the silo behind <paramref name="silo"/>.</summary>
    public static Task<SiloProcess> StartGatewayAsync(SiloProcess silo, string serviceId, params string[] extraArgs) =>
        StartAsync(BuildOutput.Find("src", "Gateway", "ReviewOrleans.Gateway.dll"), silo.OrleansGatewayPort,
            [$"--Cluster:GatewayPort={silo.OrleansGatewayPort}", $"--Cluster:ServiceId={serviceId}", .. extraArgs]);

    private static async Task<SiloProcess> StartAsync(string dll, int orleansGatewayPort, string[] extraArgs)
    {
        var directory = Directory.CreateTempSubdirectory("revieworleans-process-").FullName;
        var (grpc, http) = (FreePort(), FreePort());
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in extraArgs.Concat([$"--Gateway:GrpcPort={grpc}", $"--Gateway:HttpPort={http}"]))
        {
            start.ArgumentList.Add(arg);
        }
        var silo = new SiloProcess(Process.Start(start)!, directory, grpc, http) { OrleansGatewayPort = orleansGatewayPort };
        silo._process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();

        using var http1 = new HttpClient();
        await Eventually.Get(async () =>
        {
            if (silo._process.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(dll)} exited with code {silo._process.ExitCode}:\n{silo.Output}");
            }
            try
            {
                return await http1.GetStringAsync(new Uri(silo.HttpAddress, "/healthz"));
            }
            catch (HttpRequestException)
            {
                return "";
            }
        }, body => body == "ok", $"/healthz of {Path.GetFileName(dll)}", TimeSpan.FromSeconds(90));
        return silo;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Finds another project's build output in the same configuration as the tests.</summary>
public static class BuildOutput
{
    public static string Find(params string[] projectPathThenFile)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<configuration>/net10.0
        var project = projectPathThenFile[..^1];
        var file = projectPathThenFile[^1];
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, .. project, "bin", configuration, "net10.0", file]);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"{file} ({configuration}) not found above {AppContext.BaseDirectory}; build the solution first");
    }
}
