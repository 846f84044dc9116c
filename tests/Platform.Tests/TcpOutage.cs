using System.Net;
using System.Net.Sockets;

namespace ReviewOrleans.Platform.Tests;

/// <summary>
/// A loopback TCP relay in front of a server, which a test can cut (every connection through it dropped, new ones
/// refused) and restore: the network outage a client sees when its database goes away and comes back, without
/// stopping a server that other tests share.
/// </summary>
public sealed class TcpOutage : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private volatile bool _cut;

    public TcpOutage(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>A relay in front of a PostgreSQL server, and the connection string that goes through it (3 s connect timeout).</summary>
    public static TcpOutage InFrontOf(string connectionString, out string throughRelay)
    {
        var server = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var outage = new TcpOutage(server.Host!, server.Port);
        throughRelay = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = outage.Port, Timeout = 3 }.ConnectionString;
        return outage;
    }

    /// <summary>Drops every relayed connection; new ones are closed as soon as they are accepted.</summary>
    public void Cut()
    {
        _cut = true;
        lock (_open)
        {
            foreach (var client in _open)
            {
                client.Dispose();
            }
            _open.Clear();
        }
    }

    public void Restore() => _cut = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            if (_cut)
            {
                client.Dispose();
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(_host, _port, _stop.Token);
            lock (_open)
            {
                _open.Add(client);
                _open.Add(server);
            }
            var a = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
            var b = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception)
        {
            // A cut or the end of the test: the peers see the connection close, which is the point.
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        await _accepting;
        _stop.Dispose();
    }
}
