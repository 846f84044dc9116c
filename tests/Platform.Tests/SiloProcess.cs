using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// The real silo executable, started the way the README's main command starts it (embedded defaults, --demo), on
/// free ports and a temp state folder, and stopped (killed) when disposed.
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

    public static async Task<SiloProcess> StartAsync(params string[] extraArgs)
    {
        var directory = Directory.CreateTempSubdirectory("revieworleans-silo-").FullName;
        var (grpc, http, siloPort, gatewayPort) = (FreePort(), FreePort(), FreePort(), FreePort());
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(BuildOutput.Find("src", "Silo", "ReviewOrleans.Silo.dll"));
        foreach (var arg in extraArgs.Concat([
            $"--Gateway:GrpcPort={grpc}", $"--Gateway:HttpPort={http}",
            $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}",
            $"--Cluster:ServiceId=silo-process-{Guid.NewGuid():N}"]))
        {
            start.ArgumentList.Add(arg);
        }
        var silo = new SiloProcess(Process.Start(start)!, directory, grpc, http);
        silo._process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();

        using var http1 = new HttpClient();
        await Eventually.Get(async () =>
        {
            if (silo._process.HasExited)
            {
                throw new InvalidOperationException($"the silo exited with code {silo._process.ExitCode}:\n{silo.Output}");
            }
            try
            {
                return await http1.GetStringAsync(new Uri(silo.HttpAddress, "/healthz"));
            }
            catch (HttpRequestException)
            {
                return "";
            }
        }, body => body == "ok", "the silo's /healthz", TimeSpan.FromSeconds(90));
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

    private static int FreePort()
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
