using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Tus.Server.Tests;

/// <summary>Runs the built Tus.Server as a separate process, as a user would.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly Output _output;

    private ServerProcess(Process process, Output output, Uri endpoint)
    {
        _process = process;
        _output = output;
        Endpoint = endpoint;
        Root = new Uri(endpoint.GetLeftPart(UriPartial.Authority) + "/");
        Client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The tus endpoint URL the server logged.</summary>
    public Uri Endpoint { get; }

    /// <summary>The server's root URL.</summary>
    public Uri Root { get; }

    public HttpClient Client { get; }

    /// <summary>Everything the server wrote to standard output so far.</summary>
    public string StandardOutput => _output.Stdout;

    /// <summary>Waits until the server has written <paramref name="text"/> (its console log is written in the background).</summary>
    public async Task<string> WaitForOutputAsync(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!StandardOutput.Contains(text, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return StandardOutput;
    }

    public static string ServerDll
    {
        get
        {
            if (Environment.GetEnvironmentVariable("TUS_SERVER_DLL") is { Length: > 0 } overridden)
            {
                return overridden;
            }

            var configuration = typeof(ServerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .First(a => a.Key == "Configuration").Value!;
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tus.slnx")))
            {
                directory = directory.Parent;
            }

            if (directory is null)
            {
                throw new InvalidOperationException($"Tus.slnx not found above {AppContext.BaseDirectory}; set TUS_SERVER_DLL.");
            }

            var dll = Path.Combine(directory.FullName, "Tus.Server", "bin", configuration, "net10.0", "Tus.Server.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Tus.Server is not built.", dll);
        }
    }

    /// <summary>This run's temporary directories, removed when the run ends (<see cref="TemporaryDirectories"/>).</summary>
    public static string TemporaryRoot { get; } = Path.Combine(Path.GetTempPath(), "tus-server-tests", Guid.NewGuid().ToString("N"));

    public static string NewDirectory()
    {
        var directory = Path.Combine(TemporaryRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Starts the server and waits until it logs its endpoint URL.</summary>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var (process, output) = Launch(args, environment, workingDirectory);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (EndpointLine().Match(output.Stdout) is { Success: true } match)
            {
                return new ServerProcess(process, output, new Uri(match.Groups[1].Value));
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        var exitCode = process.ExitCode;
        process.Dispose();
        throw new InvalidOperationException($"Tus.Server did not start (exit code {exitCode}).\nstdout:\n{output.Stdout}\nstderr:\n{output.Stderr}");
    }

    /// <summary>Runs the server to its exit (for --help and bad configuration).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (process, output) = Launch(args, environment, null);
        using (process)
        {
            using var timeout = new CancellationTokenSource(StartTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"Tus.Server did not exit.\nstdout:\n{output.Stdout}\nstderr:\n{output.Stderr}");
            }

            // The parameterless wait also drains the redirected output.
            await process.WaitForExitAsync();
            return (process.ExitCode, output.Stdout, output.Stderr);
        }
    }

    /// <summary>Sends SIGTERM, as a service manager or Ctrl+C would, and returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
                throw new TimeoutException("Tus.Server did not stop within 30 s of SIGTERM.\n" + StandardOutput);
            }
        }

        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static (Process Process, Output Output) Launch(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, string? workingDirectory)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(ServerDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // A clean slate: no TUS_* settings from whoever runs the tests.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("TUS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var output = new Output();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => output.AppendStdout(e.Data);
        process.ErrorDataReceived += (_, e) => output.AppendStderr(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    [GeneratedRegex(@"tus endpoint: (http://[^\s""]+)")]
    private static partial Regex EndpointLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);

    private sealed class Output
    {
        private readonly Lock _gate = new();
        private readonly System.Text.StringBuilder _stdout = new();
        private readonly System.Text.StringBuilder _stderr = new();

        public string Stdout
        {
            get
            {
                lock (_gate)
                {
                    return _stdout.ToString();
                }
            }
        }

        public string Stderr
        {
            get
            {
                lock (_gate)
                {
                    return _stderr.ToString();
                }
            }
        }

        public void AppendStdout(string? line)
        {
            if (line is not null)
            {
                lock (_gate)
                {
                    _stdout.AppendLine(line);
                }
            }
        }

        public void AppendStderr(string? line)
        {
            if (line is not null)
            {
                lock (_gate)
                {
                    _stderr.AppendLine(line);
                }
            }
        }
    }
}
