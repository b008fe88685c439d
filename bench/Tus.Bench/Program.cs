// The benchmark driver: for each round, each scenario and each server (interleaved A B C A B C ... so that machine
// noise hits every server alike), starts the server fresh on 127.0.0.1 with its own upload directory, drives it with
// the tus client, reads its CPU time and peak RSS from /proc, and stops it. Then prints the Markdown table of medians
// and ratios and writes it with an SVG chart. Loopback only; every loop is bounded.
//   dotnet Tus.Bench.dll --tus <Tus.Server.dll> --floor <Tus.Bench.Floor.dll> --node <server.mjs> [--tus-native <exe>]
//                        [--quick] [--rounds N] [--only single,small,...] [--servers tus,native,node,floor] [--out DIR] [--name latest]
//                        [--tus-env KEY=VALUE]...
using System.Diagnostics;
using System.Globalization;
using Tus.Bench;

var options = Options.Parse(args);
if (options is null)
{
    await Console.Error.WriteLineAsync(Options.Usage);
    return 2;
}

var scenarios = Scenario.All(options.Quick).Where(s => options.Only.Count == 0 || options.Only.Contains(s.Key)).ToList();
var servers = new List<ServerKind>
{
    new("Tus.Server", "Tus.Server (file store)", "dotnet", (port, dir) => [options.TusDll, .. TusArguments(port, dir)], "/files/", options.TusEnvironment),
    new("@tus/server", "@tus/server + @tus/file-store", "node", (port, dir) => [options.NodeScript, "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), dir], "/files/", new Dictionary<string, string>()),
    new("floor", "floor (Kestrel, body discarded)", "dotnet", (port, _) => [options.FloorDll, "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture)], "/files/", new Dictionary<string, string>()),
};
if (options.TusNative is { } native)
{
    // The native executable takes the dll's place in the same command line: same flags, same store, same settings.
    servers.Insert(1, new("Tus.Server native", "Tus.Server native AOT (file store)", native, TusArguments, "/files/", options.TusEnvironment));
}

servers = servers.Where(s => options.Servers.Count == 0 || options.Servers.Contains(s.Name) || options.Servers.Contains(Alias(s.Name))).ToList();

var pattern = new byte[1024 * 1024];
new Random(20240501).NextBytes(pattern);
var runs = new List<RunResult>();
var total = Stopwatch.StartNew();
Console.Error.WriteLine($"{options.Rounds} round(s) × {scenarios.Count} scenario(s) × {servers.Count} server(s){(options.Quick ? " (quick)" : "")}");
for (var round = 1; round <= options.Rounds; round++)
{
    foreach (var scenario in scenarios)
    {
        foreach (var server in servers)
        {
            var result = await RunOnceAsync(server, scenario, round, pattern);
            runs.Add(result);
            Console.Error.WriteLine(result.Describe(scenario));
        }
    }
}

Console.Error.WriteLine($"all runs: {total.Elapsed.TotalSeconds:F0} s");
var report = new Report(scenarios, servers, runs, options);
var markdown = report.Markdown();
Console.WriteLine(markdown);
Directory.CreateDirectory(options.OutputDirectory);
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, options.Name + ".md"), markdown);
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, options.Name + ".svg"), report.Svg());
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, options.Name + ".csv"), report.Csv());
return runs.Any(r => r.Error is not null) ? 1 : 0;

static string[] TusArguments(int port, string directory) =>
    ["--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--upload-dir", directory];

static string Alias(string name) => name switch
{
    "Tus.Server" => "tus",
    "Tus.Server native" => "native",
    "@tus/server" => "node",
    _ => name,
};

static async Task<RunResult> RunOnceAsync(ServerKind kind, Scenario scenario, int round, byte[] pattern)
{
    using var handler = new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        MaxConnectionsPerServer = 1024,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };
    using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(5) };
    var client = new TusClient(http);
    ServerProcess server;
    try
    {
        server = await ServerProcess.StartAsync(kind, http);
    }
    catch (InvalidOperationException e)
    {
        return new RunResult(kind.Name, scenario.Key, round, 0, 0, 0, 0, e.Message);
    }

    await using var running = server;
    var idle = server.Rss();
    try
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        // Warm-up, not timed: small uploads each way (8 at a time) and one of 32 MiB, so that what is measured is a
        // running server rather than first-call costs (the JIT's tiers in .NET and V8 alike, lazy start-up). Peak RSS
        // includes it.
        var warmups = int.TryParse(Environment.GetEnvironmentVariable("BENCH_WARMUP"), CultureInfo.InvariantCulture, out var n) ? n : WarmupUploads;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < warmups / 8; i++)
            {
                var warm = await client.CreateAsync(server.BaseUri, 128 * 1024, 64 * 1024, pattern, deadline.Token);
                await client.PatchAsync(warm, 64 * 1024, 64 * 1024, pattern, deadline.Token);
            }
        }));

        var warmBig = await client.CreateAsync(server.BaseUri, 32 << 20, 0, pattern, deadline.Token);
        await client.PatchAsync(warmBig, 0, 32 << 20, pattern, deadline.Token);
        var cpuBefore = server.CpuTime();
        var clock = Stopwatch.StartNew();
        await scenario.Run(client, server.BaseUri, pattern, deadline.Token);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = (server.CpuTime() - cpuBefore).TotalSeconds;
        var peak = server.PeakRss();
        if (Environment.GetEnvironmentVariable("BENCH_PROBE") is { Length: > 0 } probe)
        {
            // Diagnostics while tuning: a path the server under test answers with its own figures.
            Console.Error.WriteLine($"    probe {kind.Name}: {await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.Port}{probe}"))}");
        }

        if (kind.Name != "floor" && server.StoredBytes() < scenario.TotalBytes)
        {
            throw new InvalidOperationException($"the upload directory holds {server.StoredBytes()} bytes, fewer than the {scenario.TotalBytes} sent");
        }

        return new RunResult(kind.Name, scenario.Key, round, seconds, cpu, peak, idle, null);
    }
    catch (Exception e) when (e is InvalidOperationException or HttpRequestException or OperationCanceledException or IOException)
    {
        return new RunResult(kind.Name, scenario.Key, round, 0, 0, 0, idle, e.Message + "\n" + ServerProcess.ReadLog(server.Directory));
    }
}

/// <summary>The bench's settings.</summary>
internal static partial class Program
{
    /// <summary>Uploads (creation-with-upload, then a PATCH) sent before each measured scenario.</summary>
    public const int WarmupUploads = 400;
}

/// <summary>One server running one scenario once.</summary>
internal sealed record RunResult(string Server, string Scenario, int Round, double Seconds, double CpuSeconds, long PeakRss, long IdleRss, string? Error)
{
    public double Throughput(Scenario scenario) => Seconds <= 0 ? 0
        : scenario.Unit == Unit.Bytes ? scenario.TotalBytes / (1024.0 * 1024.0) / Seconds
        : scenario.Uploads / Seconds;

    public string Describe(Scenario scenario) => Error is not null
        ? $"  round {Round} {Scenario,-10} {Server,-12} FAILED: {Error}"
        : string.Create(CultureInfo.InvariantCulture, $"  round {Round} {Scenario,-10} {Server,-12} {Throughput(scenario),9:F1} {(scenario.Unit == Unit.Bytes ? "MiB/s" : "up/s ")}  {Seconds,6:F2} s  cpu {CpuSeconds,6:F2} s  peak RSS {PeakRss / 1048576.0,6:F1} MiB  (idle {IdleRss / 1048576.0:F1} MiB)");
}

/// <summary>Command-line options.</summary>
internal sealed record Options(string TusDll, string? TusNative, string FloorDll, string NodeScript, bool Quick, int Rounds, IReadOnlySet<string> Only, IReadOnlySet<string> Servers, string OutputDirectory, string Name, IReadOnlyDictionary<string, string> TusEnvironment)
{
    public const string Usage = "usage: Tus.Bench --tus <Tus.Server.dll> --floor <Tus.Bench.Floor.dll> --node <server.mjs> [--tus-native <executable>] [--quick] [--rounds N] [--only a,b] [--servers a,b] [--out DIR] [--name NAME] [--tus-env KEY=VALUE]...";

    public static Options? Parse(string[] args)
    {
        string? tus = null, native = null, floor = null, node = null;
        var quick = false;
        int? rounds = null;
        var only = new HashSet<string>(StringComparer.Ordinal);
        var servers = new HashSet<string>(StringComparer.Ordinal);
        var output = "results";
        string? name = null;
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--tus": tus = Next(); break;
                case "--tus-native": native = Next(); break;
                case "--floor": floor = Next(); break;
                case "--node": node = Next(); break;
                case "--quick": quick = true; break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--only": only.UnionWith(Next().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--servers": servers.UnionWith(Next().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--out": output = Next(); break;
                case "--name": name = Next(); break;
                case "--tus-env":
                    var pair = Next().Split('=', 2);
                    environment[pair[0]] = pair.Length > 1 ? pair[1] : string.Empty;
                    break;
                default: return null;
            }
        }

        if (tus is null || floor is null || node is null || rounds is < 1 or > 20)
        {
            return null;
        }

        return new Options(Path.GetFullPath(tus), native is null ? null : Path.GetFullPath(native), Path.GetFullPath(floor), Path.GetFullPath(node), quick, rounds ?? (quick ? 1 : 5), only, servers, output, name ?? (quick ? "quick" : "latest"), environment);
    }
}
