using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Tus.Bench;

/// <summary>How to start one kind of server: a name for the table and the command line for a port and a directory.</summary>
internal sealed record ServerKind(string Name, string Label, string Program, Func<int, string, IReadOnlyList<string>> Arguments, string BasePath, IReadOnlyDictionary<string, string> Environment);

/// <summary>A server started fresh for one scenario run, on 127.0.0.1, with its own upload directory.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private static readonly long TicksPerSecond = Math.Max(1, Sysconf(2)); // _SC_CLK_TCK

    private readonly Process _process;

    private ServerProcess(ServerKind kind, Process process, int port, string directory)
    {
        Kind = kind;
        _process = process;
        Port = port;
        Directory = directory;
    }

    public ServerKind Kind { get; }

    public int Port { get; }

    public string Directory { get; }

    public int Pid => _process.Id;

    public Uri BaseUri => new($"http://127.0.0.1:{Port}{Kind.BasePath}");

    public static async Task<ServerProcess> StartAsync(ServerKind kind, HttpClient client)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("tus-bench-").FullName;
        var port = FreePort();
        var uploads = Path.Combine(directory, "uploads");
        System.IO.Directory.CreateDirectory(uploads);
        // exec keeps the shell's pid, so the pid measured is the server's own; its output goes to a file, not to us.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >server.log 2>&1");
        start.ArgumentList.Add(kind.Program);
        foreach (var argument in kind.Arguments(port, uploads))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NODE_ENV"] = "production";
        foreach (var (key, value) in kind.Environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {kind.Program}.");
        var server = new ServerProcess(kind, process, port, directory);
        var health = new Uri($"http://127.0.0.1:{port}/health");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                using var response = await client.GetAsync(health);
                if (response.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        var log = ReadLog(directory);
        await server.DisposeAsync();
        throw new InvalidOperationException($"{kind.Name} did not become ready on port {port}:\n{log}");
    }

    /// <summary>User plus system CPU time of the server so far.</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // The command name (field 2) may hold spaces; fields after the last ')' start at field 3.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds((double)ticks / TicksPerSecond);
    }

    /// <summary>The peak resident set size (VmHWM) so far, in bytes.</summary>
    public long PeakRss() => StatusField("VmHWM:");

    /// <summary>The resident set size now (VmRSS), in bytes.</summary>
    public long Rss() => StatusField("VmRSS:");

    /// <summary>The bytes in the files under the upload directory (data and bookkeeping).</summary>
    public long StoredBytes() =>
        new DirectoryInfo(Path.Combine(Directory, "uploads")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private long StatusField(string name)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                var kb = line[name.Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"{name} not found for pid {Pid}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15); // SIGTERM: let it stop the way an operator would
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is no reason to fail the run.
        }
    }

    public static string ReadLog(string directory)
    {
        var path = Path.Combine(directory, "server.log");
        if (!File.Exists(path))
        {
            return "(no log)";
        }

        var lines = File.ReadAllLines(path);
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 30)));
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long Sysconf(int name);
}
