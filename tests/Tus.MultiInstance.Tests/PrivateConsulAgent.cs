using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tus.MultiInstance.Tests;

/// <summary>
/// A Consul agent of a test's own (-dev, on free ports of 127.0.0.1), so that stopping it disturbs no other test. The
/// binary is the one eng/services/consul.sh installs (artifacts/services/consul-bin, or TUS_CONSUL_BIN_DIR).
/// </summary>
internal sealed class PrivateConsulAgent : IAsyncDisposable
{
    private readonly string _binary;
    private readonly int[] _ports;
    private readonly string _directory;
    private Process? _process;

    private PrivateConsulAgent(string binary, int[] ports, string directory)
    {
        _binary = binary;
        _ports = ports;
        _directory = directory;
    }

    public string Address => $"http://127.0.0.1:{_ports[0]}";

    /// <summary>The binary, or a dynamic skip of the running test.</summary>
    public static string RequireBinary()
    {
        var directory = Environment.GetEnvironmentVariable("TUS_CONSUL_BIN_DIR");
        if (string.IsNullOrEmpty(directory))
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Tus.slnx")))
            {
                root = root.Parent;
            }

            directory = root is null ? "" : Path.Combine(root.FullName, "artifacts", "services", "consul-bin");
        }

        var binary = Path.Combine(directory, "consul");
        Assert.SkipUnless(File.Exists(binary), $"No Consul binary at {binary}: run 'bash eng/services/consul.sh install' (or set TUS_CONSUL_BIN_DIR).");
        return binary;
    }

    public static async Task<PrivateConsulAgent> StartAsync(CancellationToken cancellationToken)
    {
        var agent = new PrivateConsulAgent(RequireBinary(), FreePorts(4), Path.Combine(Path.GetTempPath(), "tus-consul-" + Guid.NewGuid().ToString("N")));
        await agent.StartAgainAsync(cancellationToken);
        return agent;
    }

    /// <summary>Starts the agent (again, on the same ports; a -dev agent starts with empty state) and waits for a leader.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_directory);
        var start = new ProcessStartInfo(_binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "agent", "-dev", "-node", "tus-private", "-bind", "127.0.0.1", "-client", "127.0.0.1", "-advertise", "127.0.0.1",
            "-http-port", $"{_ports[0]}", "-dns-port", "-1", "-grpc-port", "-1", "-server-port", $"{_ports[1]}",
            "-serf-lan-port", $"{_ports[2]}", "-serf-wan-port", $"{_ports[3]}", "-disable-host-node-id", "-log-level", "warn",
        })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                var leader = await http.GetStringAsync(Address + "/v1/status/leader", cancellationToken);
                if (leader.Trim().Trim('"').Length > 0)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.False(_process.HasExited, "The private Consul agent exited during start-up.");
            await Task.Delay(100, cancellationToken);
        }

        Assert.Fail("The private Consul agent has no leader after 30 s.");
    }

    /// <summary>Kills the agent at once, as a crash or a lost host would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
