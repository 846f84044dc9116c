using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// A real executable of the project — the silo as the README's main command starts it, or the standalone gateway —
/// on free ports and a temp working folder (or as its container image starts it), ready once its /healthz answers,
/// killed when disposed.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string? _scratchDirectory; // deleted on disposal; null when the process runs in its build folder
    private readonly System.Text.StringBuilder _output = new();

    private SiloProcess(Process process, string? scratchDirectory, int grpcPort, int httpPort, string scheme)
    {
        _process = process;
        _scratchDirectory = scratchDirectory;
        GrpcAddress = new Uri($"{scheme}://127.0.0.1:{grpcPort}");
        HttpAddress = new Uri($"{scheme}://127.0.0.1:{httpPort}");
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

    /// <summary>A silo whose gateway serves HTTPS with <paramref name="certificate"/> (its PEM files given in <paramref name="extraArgs"/>).</summary>
    public static Task<SiloProcess> StartTlsAsync(TestCertificate certificate, params string[] extraArgs)
    {
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        return StartAsync(BuildOutput.Find("src", "Silo", "ReviewOrleans.Silo.dll"), gatewayPort,
            [$"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", $"--Cluster:ServiceId=silo-process-{Guid.NewGuid():N}", .. extraArgs],
            trust: certificate);
    }

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

    /// <summary>
    /// A silo of the cluster profile on <paramref name="postgres"/>: its own free silo, Orleans gateway and HTTP
    /// ports (or the given silo port, to restart a silo where it was), no co-hosted gRPC gateway.
    /// </summary>
    public static async Task<SiloProcess> StartClusterSiloAsync(string postgres, string serviceId, int? siloPort = null, params string[] extraArgs)
    {
        var (port, gatewayPort) = (siloPort ?? FreePort(), FreePort());
        var silo = await StartAsync(BuildOutput.Find("src", "Silo", "ReviewOrleans.Silo.dll"), gatewayPort,
            ["--profile", "cluster", $"--Cluster:SiloPort={port}", $"--Cluster:GatewayPort={gatewayPort}", $"--Cluster:ServiceId={serviceId}",
             "--Gateway:Enabled=false", .. extraArgs],
            new Dictionary<string, string> { ["REVIEWORLEANS_POSTGRES"] = postgres });
        silo.SiloPort = port;
        return silo;
    }

    /// <summary>The standalone gateway in the cluster profile: it finds the silos through the membership table.</summary>
    public static Task<SiloProcess> StartClusterGatewayAsync(string postgres, string serviceId, params string[] extraArgs) =>
        StartAsync(BuildOutput.Find("src", "Gateway", "ReviewOrleans.Gateway.dll"), 0,
            ["--profile", "cluster", $"--Cluster:ServiceId={serviceId}", .. extraArgs],
            new Dictionary<string, string> { ["REVIEWORLEANS_POSTGRES"] = postgres });

    /// <summary>Runs a process of the project that is expected to stop by itself; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string[] projectPathThenDll, string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(BuildOutput.Find(projectPathThenDll));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The silo-to-silo port (cluster silos), to restart a silo on the same address.</summary>
    public int SiloPort { get; private set; }

    public int ProcessId => _process.Id;

    /// <summary>Ends the process at once, as kill -9 does: no shutdown, no deactivation, nothing flushed.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the process to stop (SIGTERM, as an orchestrator does) and waits for it to exit.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
    }

    private static Task<SiloProcess> StartAsync(string dll, int orleansGatewayPort, string[] extraArgs,
        IReadOnlyDictionary<string, string>? environment = null, TestCertificate? trust = null)
    {
        var directory = Directory.CreateTempSubdirectory("revieworleans-process-").FullName;
        var (grpc, http) = (FreePort(), FreePort());
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        start.ArgumentList.Add(dll);
        foreach (var arg in extraArgs.Concat([$"--Gateway:GrpcPort={grpc}", $"--Gateway:HttpPort={http}"]))
        {
            start.ArgumentList.Add(arg);
        }
        return LaunchAsync(start, dll, directory, grpc, http, trust, orleansGatewayPort);
    }

    /// <summary>
    /// A built executable started as its image starts it: <c>dotnet X.dll</c> in the folder it was built to (the images'
    /// WORKDIR, so its appsettings.json is read), with the image's ENV and <paramref name="environment"/> (which names
    /// its ports as <c>Gateway__HttpPort</c> and, for a gateway, <c>Gateway__GrpcPort</c>) and none of this test
    /// process's own settings.
    /// </summary>
    public static Task<SiloProcess> StartAsImageAsync(string dll, IReadOnlyDictionary<string, string> image, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        foreach (var inherited in start.Environment.Keys.Where(k => k.Contains("__", StringComparison.Ordinal)
            || k.StartsWith("REVIEWORLEANS_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(inherited);
        }
        foreach (var (name, value) in image.Concat(environment))
        {
            start.Environment[name] = value;
        }
        var grpc = int.Parse(environment.GetValueOrDefault("Gateway__GrpcPort", "0"), System.Globalization.CultureInfo.InvariantCulture);
        var http = int.Parse(environment["Gateway__HttpPort"], System.Globalization.CultureInfo.InvariantCulture);
        return LaunchAsync(start, dll, scratchDirectory: null, grpc, http, trust: null, orleansGatewayPort: 0);
    }

    private static async Task<SiloProcess> LaunchAsync(ProcessStartInfo start, string dll, string? scratchDirectory, int grpc, int http,
        TestCertificate? trust, int orleansGatewayPort)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var silo = new SiloProcess(Process.Start(start)!, scratchDirectory, grpc, http, trust is null ? "http" : "https") { OrleansGatewayPort = orleansGatewayPort };
        silo._process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();

        using var http1 = trust is null ? new HttpClient() : new HttpClient(trust.TrustingHandler());
        try
        {
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
        }
        catch (TimeoutException ex)
        {
            // What the process printed is the only way to see why it never became healthy.
            await silo.DisposeAsync();
            var output = silo.Output;
            throw new TimeoutException($"{ex.Message}\n--- its output (last 6,000 characters) ---\n{output[Math.Max(0, output.Length - 6000)..]}", ex);
        }
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
        if (_scratchDirectory is null)
        {
            return;
        }
        try
        {
            Directory.Delete(_scratchDirectory, recursive: true);
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
