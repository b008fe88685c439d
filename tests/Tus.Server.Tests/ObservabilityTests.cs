using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tus.Server.Tests;

/// <summary>Metrics, readiness, log formats and start-up failures of the built server process.</summary>
public sealed partial class ObservabilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string[] Loopback(string uploadDir, params string[] more) =>
        ["--host", "127.0.0.1", "--port", "0", "--upload-dir", uploadDir, .. more];

    [Fact]
    public async Task Metrics_Exposed_AreScrapedInThePrometheusFormat()
    {
        await using var server = await ServerProcess.StartAsync(Loopback(ServerProcess.NewDirectory(), "--expose-metrics", "--metrics-path", "/prom"));
        var upload = await CreateAsync(server, 5);
        await PatchAsync(server, upload, "hello");
        (await server.Client.GetStringAsync(upload, Ct)).Should().Be("hello");

        // The download's figures are recorded once its body has been read out, a moment after the client has it.
        Dictionary<string, double> samples = [];
        var types = new Dictionary<string, string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            (samples, types) = Parse(await server.Client.GetStringAsync(new Uri(server.Root, "prom"), Ct));
            if (samples.ContainsKey("tus_download_served_bytes_total"))
            {
                break;
            }

            await Task.Delay(100, Ct);
        }

        samples["tus_upload_created_total"].Should().Be(1);
        samples["tus_upload_finished_total"].Should().Be(1);
        samples["tus_upload_received_bytes_total"].Should().Be(5);
        samples["tus_download_served_bytes_total"].Should().Be(5);
        samples["tus_upload_active_writes"].Should().Be(0);
        samples["tus_server_request_duration_seconds_count{http_request_method=\"PATCH\",http_response_status_code=\"204\"}"].Should().Be(1);
        samples["tus_server_request_duration_seconds_count{http_request_method=\"POST\",http_response_status_code=\"201\"}"].Should().Be(1);
        samples["tus_store_call_duration_seconds_count{tus_store_operation=\"append\"}"].Should().Be(1);
        samples["tus_lock_wait_duration_seconds_count{tus_lock_outcome=\"acquired\"}"].Should().Be(1);
        samples.Keys.Should().Contain(k => k.StartsWith("tus_server_request_duration_seconds_bucket{", StringComparison.Ordinal) && k.Contains("le=\"+Inf\"", StringComparison.Ordinal));
        types["tus_server_request_duration_seconds"].Should().Be("histogram");
        types["tus_upload_created_total"].Should().Be("counter");
        types["tus_upload_active_writes"].Should().Be("gauge");

        using var notExposed = await server.Client.GetAsync(new Uri(server.Root, "metrics"), Ct);
        notExposed.StatusCode.Should().Be(HttpStatusCode.NotFound, "the metrics live at --metrics-path");
    }

    [Fact]
    public async Task Metrics_NotExposed_ByDefault()
    {
        await using var server = await ServerProcess.StartAsync(Loopback(ServerProcess.NewDirectory()));
        using var response = await server.Client.GetAsync(new Uri(server.Root, "metrics"), Ct);
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Ready_WhenTheUploadDirectoryBecomesUnwritable_Is503_AndReadyAgainAfter()
    {
        // Tests may run as root, whom no permission bit stops: the directory is replaced by a file instead.
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir));
        var ready = new Uri(server.Root, "ready");

        using (var response = await server.Client.GetAsync(ready, Ct))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync(Ct)).Should().Be("ready\n");
        }

        Directory.GetFiles(dir).Should().BeEmpty("the probe upload is deleted again");
        var aside = dir + ".aside";
        Directory.Move(dir, aside);
        await File.WriteAllTextAsync(dir, "not a directory", Ct);
        using (var response = await server.Client.GetAsync(ready, Ct))
        {
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            var body = await response.Content.ReadAsStringAsync(Ct);
            body.Should().StartWith("not ready: store:").And.NotContain(dir, "details go to the log, not to clients");
        }

        using (var health = await server.Client.GetAsync(new Uri(server.Root, "health"), Ct))
        {
            health.StatusCode.Should().Be(HttpStatusCode.OK, "liveness says the process runs, nothing more");
        }

        File.Delete(dir);
        Directory.Move(aside, dir);
        using (var response = await server.Client.GetAsync(ready, Ct))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await server.WaitForOutputAsync("Not ready: store:")).Should().Contain("Not ready: store:");
    }

    [Fact]
    public async Task Version_PrintsOneLineAndExitsZero()
    {
        var (exitCode, stdout, _) = await ServerProcess.RunToExitAsync(["--version"]);

        exitCode.Should().Be(0);
        stdout.Trim().Should().MatchRegex(@"^tus-server \d+\.\d+\.\d+\S* \((commit [0-9a-f]+, )?JIT, \.NET [^,]+, [a-z0-9-]+\)$", "the JIT build names itself, its runtime and platform");
    }

    [Fact]
    public async Task LogFormatJson_WritesOneJsonObjectPerLine_WithTheUploadScope()
    {
        await using var server = await ServerProcess.StartAsync(Loopback(ServerProcess.NewDirectory(), "--log-format", "json", "--access-log"));
        var upload = await CreateAsync(server, 5);
        await PatchAsync(server, upload, "hello");
        // The PATCH's own access-log line is written after the engine's "completed" line, so it is the one to wait for.
        await WaitForAsync(() => server.StandardOutput.Split('\n').Any(line =>
            line.Contains("\"Tus.Server.AccessLog\"", StringComparison.Ordinal) && line.Contains("\"Method\":\"PATCH\"", StringComparison.Ordinal)));

        var lines = server.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var entries = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var completed = entries.Single(e => e.GetProperty("Category").GetString() == "Tus.TusEngine" && e.GetProperty("EventId").GetInt32() == 4);
        var id = upload.Segments[^1];
        completed.GetProperty("State").GetProperty("UploadId").GetString().Should().Be(id);
        completed.GetProperty("Scopes").EnumerateArray()
            .Select(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("UploadId", out var scoped) ? scoped.GetString() : null)
            .Should().Contain(id);
        entries.Should().Contain(e => e.GetProperty("Category").GetString() == "Tus.Server.AccessLog" && e.GetProperty("State").GetProperty("Method").GetString() == "PATCH");
    }

    [Fact]
    public async Task UploadDirectoryThatCannotBeCreated_Exits2WithOneLineAndNoStackTrace()
    {
        var parentIsAFile = Path.Combine(ServerProcess.NewDirectory(), "file");
        await File.WriteAllTextAsync(parentIsAFile, "x", Ct);

        var (exitCode, stdout, stderr) = await ServerProcess.RunToExitAsync(Loopback(Path.Combine(parentIsAFile, "data")));

        exitCode.Should().Be(2);
        stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("tus-server: ").And.Contain(Path.Combine(parentIsAFile, "data"));
        (stdout + stderr).Should().NotContain("   at ", "no stack trace");
    }

    [Fact]
    public async Task PortTaken_Exits2WithOneLineAndNoStackTrace()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

        var (exitCode, stdout, stderr) = await ServerProcess.RunToExitAsync(
            ["--host", "127.0.0.1", "--port", port, "--upload-dir", ServerProcess.NewDirectory()]);

        exitCode.Should().Be(2);
        stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("cannot listen on http://127.0.0.1:" + port).And.Contain("in use");
        (stdout + stderr).Should().NotContain("   at ", "no stack trace");
    }

    private static async Task<Uri> CreateAsync(ServerProcess server, int length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        using var response = await server.Client.SendAsync(request, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return new Uri(server.Endpoint, response.Headers.Location!);
    }

    private static async Task PatchAsync(ServerProcess server, Uri upload, string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new StringContent(text) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", "0");
        using var response = await server.Client.SendAsync(request, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>
    /// Reads the Prometheus text format: each sample under its name and labels, without the labels every series of
    /// the meter carries (otel_scope_*), and each metric's type.
    /// </summary>
    private static (Dictionary<string, double> Samples, Dictionary<string, string> Types) Parse(string exposition)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in exposition.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                types[parts[2]] = parts[3];
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            match.Success.Should().BeTrue($"'{line}' is a sample line");
            var labels = match.Groups["labels"].Success
                ? string.Join(',', LabelPair().Matches(match.Groups["labels"].Value).Select(m => m.Value).Where(l => !l.StartsWith("otel_scope_", StringComparison.Ordinal)))
                : "";
            var key = match.Groups["name"].Value + (labels.Length > 0 ? "{" + labels + "}" : "");
            samples[key] = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                var value => double.Parse(value, CultureInfo.InvariantCulture),
            };
        }

        return (samples, types);
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"[a-zA-Z_][a-zA-Z0-9_]*=""(\\.|[^""\\])*""")]
    private static partial Regex LabelPair();
}
