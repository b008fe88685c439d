using System.Globalization;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;

namespace Tus.Bench;

/// <summary>Medians, ratios and target checks over the runs, as Markdown, SVG and CSV.</summary>
internal sealed class Report(IReadOnlyList<Scenario> scenarios, IReadOnlyList<ServerKind> servers, IReadOnlyList<RunResult> runs, Options options)
{
    private const double MiB = 1024 * 1024;
    private static readonly string[] Colors = ["#2b6cb0", "#38a169", "#dd6b20", "#718096"];

    private IEnumerable<RunResult> Good(string server, string scenario) =>
        runs.Where(r => r.Server == server && r.Scenario == scenario && r.Error is null);

    private double? Median(string server, Scenario scenario, Func<RunResult, double> value)
    {
        var values = Good(server, scenario.Key).Select(value).ToList();
        return values.Count == 0 ? null : MedianOf(values);
    }

    private double? Throughput(string server, Scenario scenario) => Median(server, scenario, r => r.Throughput(scenario));

    private double? Cpu(string server, Scenario scenario) => Median(server, scenario, r => r.CpuSeconds);

    private double? Rss(string server, Scenario scenario) => Median(server, scenario, r => r.PeakRss / MiB);

    /// <summary>The median over rounds of a / b, each ratio taken within one round (so both ran under the same conditions).</summary>
    private double? Ratio(string a, string b, Scenario scenario, Func<RunResult, double> value)
    {
        var ratios = new List<double>();
        foreach (var round in runs.Select(r => r.Round).Distinct())
        {
            var x = Good(a, scenario.Key).FirstOrDefault(r => r.Round == round);
            var y = Good(b, scenario.Key).FirstOrDefault(r => r.Round == round);
            if (x is not null && y is not null && value(y) > 0)
            {
                ratios.Add(value(x) / value(y));
            }
        }

        return ratios.Count == 0 ? null : MedianOf(ratios);
    }

    private static double MedianOf(List<double> values)
    {
        values.Sort();
        var middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static string F(double? value, string format = "F1") =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Unit(Scenario scenario) => scenario.Unit == Tus.Bench.Unit.Bytes ? "MiB/s" : "uploads/s";

    public string Markdown()
    {
        var md = new StringBuilder();
        var rounds = runs.Count == 0 ? 0 : runs.Max(r => r.Round);
        md.AppendLine(CultureInfo.InvariantCulture, $"# Benchmarks{(options.Quick ? " (quick smoke run: smaller sizes, one round)" : "")}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC · commit {Env("BENCH_COMMIT")} · {Environment.ProcessorCount} cores, {MemoryGiB():F0} GiB · {RuntimeInformation.FrameworkDescription} · Node {Env("BENCH_NODE_VERSION")} · {Env("BENCH_PEER_VERSIONS")} · {rounds} round(s), servers interleaved, each started fresh per run on 127.0.0.1 · upload directories in {Env("BENCH_DATA_FS")}");
        if (options.TusEnvironment.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Tus.Server environment: {string.Join(' ', options.TusEnvironment.Select(e => $"`{e.Key}={e.Value}`"))}");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Medians of {rounds} run(s). Throughput is measured by the client (MiB/s of upload data, or finished uploads/s); server CPU is user+system seconds while the scenario ran; peak RSS is the server's VmHWM, start-up included.");
        md.AppendLine();
        md.AppendLine("| Scenario | Server | Throughput | Server CPU s | CPU s / GiB | Peak RSS MiB |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var scenario in scenarios)
        {
            foreach (var server in servers)
            {
                var failed = runs.Count(r => r.Server == server.Name && r.Scenario == scenario.Key && r.Error is not null);
                var cpu = Cpu(server.Name, scenario);
                var perGiB = scenario.Unit == Tus.Bench.Unit.Bytes ? cpu / (scenario.TotalBytes / (1024.0 * MiB)) : null;
                md.AppendLine(CultureInfo.InvariantCulture, $"| {scenario.Title} | {server.Label}{(failed > 0 ? $" ({failed} failed)" : "")} | {F(Throughput(server.Name, scenario), "F0")} {Unit(scenario)} | {F(cpu, "F2")} | {F(perGiB, "F2")} | {F(Rss(server.Name, scenario))} |");
            }
        }

        md.AppendLine();
        md.AppendLine("Ratios: the median over rounds of each round's ratio (throughput: higher is better for the first server; CPU and RSS: lower is better).");
        md.AppendLine();
        var pairs = new List<(ServerKind A, ServerKind B)>();
        for (var i = 0; i < servers.Count; i++)
        {
            for (var j = i + 1; j < servers.Count; j++)
            {
                pairs.Add((servers[i], servers[j]));
            }
        }

        md.Append("| Scenario |");
        foreach (var (a, b) in pairs)
        {
            md.Append(CultureInfo.InvariantCulture, $" {a.Name} / {b.Name} throughput | CPU | RSS |");
        }

        md.AppendLine();
        md.Append("| --- |");
        md.Append(string.Concat(Enumerable.Repeat(" ---: | ---: | ---: |", pairs.Count)));
        md.AppendLine();
        foreach (var scenario in scenarios)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {scenario.Title} |");
            foreach (var (a, b) in pairs)
            {
                md.Append(CultureInfo.InvariantCulture, $" {F(Ratio(a.Name, b.Name, scenario, r => r.Throughput(scenario)), "F2")}× | {F(Ratio(a.Name, b.Name, scenario, r => r.CpuSeconds), "F2")}× | {F(Ratio(a.Name, b.Name, scenario, r => r.PeakRss), "F2")}× |");
            }

            md.AppendLine();
        }

        md.AppendLine();
        md.AppendLine("Idle RSS (right after start-up, before any upload; median over every run of that server):");
        md.AppendLine();
        md.AppendLine("| Server | Idle RSS MiB |");
        md.AppendLine("| --- | ---: |");
        foreach (var server in servers)
        {
            var idle = runs.Where(r => r.Server == server.Name).Select(r => r.IdleRss / MiB).ToList();
            md.AppendLine(CultureInfo.InvariantCulture, $"| {server.Label} | {F(idle.Count == 0 ? null : MedianOf(idle))} |");
        }

        AppendTargets(md);
        var failures = runs.Where(r => r.Error is not null).ToList();
        if (failures.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Failed runs");
            md.AppendLine();
            foreach (var failure in failures)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- round {failure.Round}, {failure.Scenario}, {failure.Server}: `{failure.Error!.Split('\n')[0]}`");
            }
        }

        return md.ToString();
    }

    private void AppendTargets(StringBuilder md)
    {
        const string Tus = "Tus.Server", Peer = "@tus/server", Floor = "floor";
        if (options.Quick || !servers.Any(s => s.Name == Tus))
        {
            return;
        }

        var byKey = scenarios.ToDictionary(s => s.Key);
        var rows = new List<(string Target, string Measured, bool? Met)>();
        if (byKey.TryGetValue("single", out var single))
        {
            var ratio = Ratio(Tus, Floor, single, r => r.Throughput(single));
            rows.Add(("one stream ≥ 95% of the floor's throughput", ratio is { } r1 ? $"{r1 * 100:F0}%" : "–", ratio is null ? null : ratio >= 0.95));
            var perGiB = Cpu(Tus, single) / (single.TotalBytes / (1024.0 * MiB));
            rows.Add(("one stream ≤ 1.5 server CPU s per GiB", $"{F(perGiB, "F2")} s/GiB", perGiB is null ? null : perGiB <= 1.5));
            var rss = Rss(Tus, single);
            rows.Add(("peak RSS ≤ 64 MiB for a 1 GiB upload (one stream)", $"{F(rss)} MiB", rss is null ? null : rss <= 64));
        }

        if (byKey.TryGetValue("chunked", out var chunked))
        {
            var rss = Rss(Tus, chunked);
            rows.Add(("peak RSS ≤ 64 MiB for a 1 GiB upload (64 MiB chunks)", $"{F(rss)} MiB", rss is null ? null : rss <= 64));
        }

        foreach (var key in new[] { "small", "small-cwu" })
        {
            if (byKey.TryGetValue(key, out var small))
            {
                var ratio = Ratio(Tus, Peer, small, r => r.Throughput(small));
                rows.Add(($"{small.Title}: ≥ 1.5× the peer's uploads/s", $"{F(ratio, "F2")}×", ratio is null ? null : ratio >= 1.5));
            }
        }

        if (byKey.TryGetValue("many", out var many))
        {
            var rss = Rss(Tus, many);
            rows.Add(("256 concurrent uploads under 200 MiB peak RSS", $"{F(rss)} MiB", rss is null ? null : rss < 200));
        }

        AppendTargetTable(md, "Targets (Tus.Server with the file store)", rows);
        AppendNativeTargets(md, byKey);
    }

    /// <summary>The native build's targets: against the floor's throughput and CPU, the peer's, and fixed memory bounds.</summary>
    private void AppendNativeTargets(StringBuilder md, Dictionary<string, Scenario> byKey)
    {
        const string Native = "Tus.Server native", Peer = "@tus/server", Floor = "floor";
        if (!servers.Any(s => s.Name == Native))
        {
            return;
        }

        var rows = new List<(string Target, string Measured, bool? Met)>();
        if (byKey.TryGetValue("single", out var single))
        {
            var gib = single.TotalBytes / (1024.0 * MiB);
            var speed = Ratio(Native, Floor, single, r => r.Throughput(single));
            rows.Add(("one 1 GiB stream ≥ 0.95× the floor's MiB/s", $"{F(speed, "F2")}×", speed is null ? null : speed >= 0.95));
            var cpu = Ratio(Native, Floor, single, r => r.CpuSeconds);
            rows.Add(("CPU s per GiB ≤ 1.1× the floor's", $"{F(Cpu(Native, single) / gib, "F2")} s/GiB = {F(cpu, "F2")}×", cpu is null ? null : cpu <= 1.1));
            var cpuPeer = Ratio(Native, Peer, single, r => r.CpuSeconds);
            rows.Add(("CPU s per GiB below @tus/server's", $"{F(cpuPeer, "F2")}×", cpuPeer is null ? null : cpuPeer < 1));
            var rss = Rss(Native, single);
            rows.Add(("peak RSS ≤ 40 MiB during a 1 GiB upload", $"{F(rss)} MiB", rss is null ? null : rss <= 40));
        }

        foreach (var key in new[] { "small", "small-cwu" })
        {
            if (byKey.TryGetValue(key, out var small))
            {
                var ratio = Ratio(Native, Peer, small, r => r.Throughput(small));
                rows.Add(($"{small.Title}: ≥ 2× @tus/server's uploads/s", $"{F(ratio, "F2")}×", ratio is null ? null : ratio >= 2));
            }
        }

        var idle = runs.Where(r => r.Server == Native && r.Error is null).Select(r => r.IdleRss / MiB).ToList();
        var idleMedian = idle.Count == 0 ? (double?)null : MedianOf(idle);
        rows.Add(("idle RSS ≤ 30 MiB", $"{F(idleMedian)} MiB", idleMedian is null ? null : idleMedian <= 30));
        AppendTargetTable(md, "Targets (native Tus.Server)", rows);
    }

    private static void AppendTargetTable(StringBuilder md, string title, List<(string Target, string Measured, bool? Met)> rows)
    {
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {title}");
        md.AppendLine();
        md.AppendLine("| Target | Measured | Met |");
        md.AppendLine("| --- | ---: | :---: |");
        foreach (var (target, measured, met) in rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {measured} | {(met is null ? "–" : met.Value ? "yes" : "**no**")} |");
        }
    }

    public string Csv()
    {
        var csv = new StringBuilder("server,scenario,round,seconds,throughput,unit,cpu_seconds,peak_rss_bytes,idle_rss_bytes,error\n");
        foreach (var run in runs)
        {
            var scenario = scenarios.First(s => s.Key == run.Scenario);
            csv.AppendLine(CultureInfo.InvariantCulture, $"{run.Server},{run.Scenario},{run.Round},{run.Seconds:F3},{run.Throughput(scenario):F2},{Unit(scenario)},{run.CpuSeconds:F2},{run.PeakRss},{run.IdleRss},\"{run.Error?.Split('\n')[0].Replace("\"", "'", StringComparison.Ordinal)}\"");
        }

        return csv.ToString();
    }

    /// <summary>A grouped horizontal bar chart: one row per scenario, one column per figure, one bar per server.</summary>
    public string Svg()
    {
        const int Width = 1020, Left = 20, ColumnWidth = 330, BarHeight = 16, RowTitle = 22, Top = 78;
        var rowHeight = RowTitle + servers.Count * (BarHeight + 3) + 14;
        var height = Top + scenarios.Count * rowHeight + 30;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{height}\" fill=\"#ffffff\"/>");
        var rounds = runs.Count == 0 ? 0 : runs.Max(r => r.Round);
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Tus.Server vs @tus/server vs the floor: medians of {rounds} run(s){(options.Quick ? " (quick)" : "")}</text>");
        var legendX = Left;
        for (var s = 0; s < servers.Count; s++)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"36\" width=\"12\" height=\"12\" fill=\"{Colors[s % Colors.Length]}\"/><text x=\"{legendX + 17}\" y=\"46\">{Escape(servers[s].Label)}</text>");
            legendX += 40 + (servers[s].Label.Length * 7);
        }

        string[] columns = ["throughput (higher is better)", "server CPU seconds (lower is better)", "peak RSS MiB (lower is better)"];
        for (var c = 0; c < columns.Length; c++)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Left + (c * ColumnWidth)}\" y=\"{Top - 10}\" font-weight=\"bold\" fill=\"#4a5568\">{columns[c]}</text>");
        }

        for (var i = 0; i < scenarios.Count; i++)
        {
            var scenario = scenarios[i];
            var y = Top + (i * rowHeight);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Left}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#e2e8f0\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{y + 16}\" font-weight=\"bold\">{Escape(scenario.Title)}</text>");
            Func<string, double?>[] figures = [s => Throughput(s, scenario), s => Cpu(s, scenario), s => Rss(s, scenario)];
            string[] units = [Unit(scenario), "s", "MiB"];
            for (var c = 0; c < figures.Length; c++)
            {
                var values = servers.Select(s => figures[c](s.Name)).ToList();
                var max = values.Max() ?? 0;
                for (var s = 0; s < servers.Count; s++)
                {
                    var barY = y + RowTitle + (s * (BarHeight + 3));
                    var x = Left + (c * ColumnWidth);
                    var value = values[s];
                    var length = value is { } v && max > 0 ? Math.Max(1, v / max * (ColumnWidth - 110)) : 0;
                    svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{barY}\" width=\"{length:F1}\" height=\"{BarHeight}\" fill=\"{Colors[s % Colors.Length]}\"/>");
                    var label = value is null ? "failed" : $"{F(value, value >= 100 ? "F0" : value >= 10 ? "F1" : "F2")} {units[c]}";
                    svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x + length + 5:F1}\" y=\"{barY + 12}\">{Escape(label)}</text>");
                }
            }
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : "?";

    private static double MemoryGiB()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[9..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / (1024.0 * 1024.0);
    }
}
