using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Tus.Faults.Tests;

/// <summary>The built Tus.Server as a child process that a test can kill with SIGKILL and whose memory and descriptors it reads.</summary>
internal sealed partial class ChildServer : IAsyncDisposable
{
    private readonly Process _process;

    private ChildServer(Process process, Uri endpoint)
    {
        _process = process;
        Endpoint = endpoint;
        Client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri Endpoint { get; }

    public int Port => Endpoint.Port;

    public HttpClient Client { get; }

    public int Pid => _process.Id;

    /// <summary>From launching the process to its first answer to a request.</summary>
    public TimeSpan StartedIn { get; private set; }

    public static string ServerDll
    {
        get
        {
            if (Environment.GetEnvironmentVariable("TUS_SERVER_DLL") is { Length: > 0 } overridden)
            {
                return overridden;
            }

            var configuration = typeof(ChildServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "Configuration").Value!;
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tus.slnx")))
            {
                directory = directory.Parent;
            }

            var dll = Path.Combine(directory?.FullName ?? ".", "Tus.Server", "bin", configuration, "net10.0", "Tus.Server.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Tus.Server is not built; set TUS_SERVER_DLL.", dll);
        }
    }

    /// <summary>Starts the server on a free loopback port and waits for its first answer.</summary>
    public static async Task<ChildServer> StartAsync(string uploadDir, params string[] more)
    {
        var clock = Stopwatch.StartNew();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(ServerDll);
        foreach (var arg in (string[])["--host", "127.0.0.1", "--port", "0", "--upload-dir", uploadDir, .. more])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("TUS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Only warnings and errors: a storm of clients would otherwise fill the pipe with request logs.
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Tus.Server"] = "Information";
        start.Environment["Logging__LogLevel__ServerLog"] = "Information";
        start.Environment["Logging__LogLevel__Program"] = "Information";

        var process = new Process { StartInfo = start };
        var endpoint = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (EndpointLine().Match(e.Data) is { Success: true } match)
            {
                endpoint.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(endpoint.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != endpoint.Task)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            string log;
            lock (output)
            {
                log = output.ToString();
            }

            throw new InvalidOperationException("Tus.Server did not start:\n" + log);
        }

        var server = new ChildServer(process, endpoint.Task.Result);
        server.StartedIn = await server.FirstAnswerAsync(clock);
        return server;
    }

    private async Task<TimeSpan> FirstAnswerAsync(Stopwatch clock)
    {
        while (true)
        {
            try
            {
                using var options = new HttpRequestMessage(HttpMethod.Options, Endpoint);
                using var response = await Client.SendAsync(options);
                return clock.Elapsed;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(5);
            }
        }
    }

    /// <summary>SIGKILL: no shutdown, no flush, no goodbye.</summary>
    public async Task KillAsync()
    {
        _ = SendSignal(_process.Id, 9);
        await _process.WaitForExitAsync();
    }

    /// <summary>Resident memory in KiB and open file descriptors, from /proc.</summary>
    public (long RssKiB, int Fds) Resources()
    {
        var rss = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kib = long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return (kib, Directory.GetFileSystemEntries($"/proc/{Pid}/fd").Length);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"tus endpoint: (http://\S+)")]
    private static partial Regex EndpointLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SendSignal(int pid, int signal);
}
