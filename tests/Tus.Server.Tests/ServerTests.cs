using System.Net;
using System.Net.Http.Headers;

namespace Tus.Server.Tests;

/// <summary>The built server, started as a separate process with flags and environment variables.</summary>
public sealed class ServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string[] Loopback(string uploadDir, params string[] more) =>
        ["--host", "127.0.0.1", "--port", "0", "--upload-dir", uploadDir, .. more];

    [Fact]
    public async Task Start_WithPortAndUploadDir_AnswersHealth()
    {
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir));

        using var response = await server.Client.GetAsync(new Uri(server.Root, "health"), Ct);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync(Ct)).Should().Be("ok");
        server.Endpoint.AbsolutePath.Should().Be("/files/");
    }

    [Fact]
    public async Task LandingPage_ShowsEndpointExtensionsAndAnExample()
    {
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir));

        using var response = await server.Client.GetAsync(server.Root, Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        page.Should().Contain("tus").And.Contain(server.Endpoint.ToString()).And.Contain("creation").And.Contain("curl -i -X POST");
    }

    [Fact]
    public async Task Start_LogsEffectiveConfigurationWithSourcesAndExtensions()
    {
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(
            Loopback(dir, "--max-size", "1000", "--shutdown-grace-period", "0"),
            new Dictionary<string, string> { ["TUS_LOCK_TIMEOUT"] = "3s", ["TUS_STORE_CALL_TIMEOUT"] = "90s" });

        var log = server.StandardOutput;

        log.Should().Contain($"UploadDir = {dir} (--upload-dir)")
            .And.Contain("MaxSize = 1000 (--max-size)")
            .And.Contain("LockTimeout = 3s (TUS_LOCK_TIMEOUT)")
            .And.Contain("StoreCallTimeout = 90s (TUS_STORE_CALL_TIMEOUT)")
            .And.Contain("ShutdownGracePeriod = 0 (--shutdown-grace-period)")
            .And.Contain("BasePath = /files/ (default)")
            .And.Contain("Storing uploads in " + dir)
            .And.MatchRegex("extensions: .*creation");
    }

    [Fact]
    public async Task Upload_ThroughTheServer_LandsInTheUploadDirectory()
    {
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir));
        var data = "hello, resumable world"u8.ToArray();

        using var post = new HttpRequestMessage(HttpMethod.Post, server.Endpoint);
        post.Headers.Add("Tus-Resumable", "1.0.0");
        post.Headers.Add("Upload-Length", data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var created = await server.Client.SendAsync(post, Ct);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var upload = new Uri(server.Endpoint, created.Headers.Location!);

        using var patch = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new ByteArrayContent(data) };
        patch.Headers.Add("Tus-Resumable", "1.0.0");
        patch.Headers.Add("Upload-Offset", "0");
        patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        using var patched = await server.Client.SendAsync(patch, Ct);

        patched.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await File.ReadAllBytesAsync(Path.Combine(dir, upload.Segments[^1]), Ct)).Should().Equal(data);
    }

    [Fact]
    public async Task Help_PrintsEverySettingAndExitsZero()
    {
        var (exitCode, stdout, stderr) = await ServerProcess.RunToExitAsync(["--help"]);

        exitCode.Should().Be(0);
        stderr.Should().BeEmpty();
        foreach (var name in new[]
        {
            "--host", "--port", "--base-path", "--upload-dir", "--max-size", "--behind-proxy", "--cors-origins",
            "--cors-allow-credentials", "--disable-cors", "--disable-download", "--disable-termination",
            "--disable-concatenation", "--expiration", "--read-timeout", "--lock-timeout", "--flush-to-disk",
            "--store-call-timeout", "TUS_STORE_CALL_TIMEOUT", "StoreCallTimeout",
            "--shutdown-grace-period", "TUS_SHUTDOWN_GRACE_PERIOD", "ShutdownGracePeriod",
            "TUS_HOST", "TUS_PORT", "TUS_UPLOAD_DIR", "TUS_BASE_PATH", "TUS_MAX_SIZE", "UploadDir", "8080", "./data",
        })
        {
            stdout.Should().Contain(name);
        }
    }

    [Fact]
    public async Task BadValues_ExitWith2AndReportEveryProblemWithoutAStackTrace()
    {
        var (exitCode, stdout, stderr) = await ServerProcess.RunToExitAsync(
            ["--port", "eighty", "--read-timeout", "-1", "--max-size", "lots", "--cors-origins", "ftp://example.test/path",
             "--store-call-timeout", "0", "--shutdown-grace-period", "soon"]);

        exitCode.Should().Be(2);
        stderr.Should().Contain("Port").And.Contain("eighty")
            .And.Contain("ReadTimeout").And.Contain("MaxSize").And.Contain("lots")
            .And.Contain("StoreCallTimeout (--store-call-timeout / TUS_STORE_CALL_TIMEOUT): '0'")
            .And.Contain("ShutdownGracePeriod (--shutdown-grace-period / TUS_SHUTDOWN_GRACE_PERIOD): 'soon'");
        stderr.Should().NotContain("   at ", "problems are reported as messages, not exceptions");
        stdout.Should().NotContain("Now listening");
    }

    [Fact]
    public async Task InvalidOrigin_IsReportedByTheEngineValidation_ExitCode2()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(["--cors-origins", "ftp://example.test/path"]);

        exitCode.Should().Be(2);
        stderr.Should().Contain("ftp://example.test/path");
    }

    [Fact]
    public async Task UnknownOption_ExitsWith2()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(["--no-such-option", "1"]);

        exitCode.Should().Be(2);
        stderr.Should().Contain("unknown option '--no-such-option'");
    }

    [Fact]
    public async Task EnvironmentVariables_ConfigureTheServer()
    {
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync([], new Dictionary<string, string>
        {
            ["TUS_HOST"] = "127.0.0.1",
            ["TUS_PORT"] = "0",
            ["TUS_UPLOAD_DIR"] = dir,
            ["TUS_BASE_PATH"] = "/uploads",
            ["TUS_DISABLE_TERMINATION"] = "true",
        });

        server.Endpoint.AbsolutePath.Should().Be("/uploads/");
        server.StandardOutput.Should().Contain("BasePath = /uploads (TUS_BASE_PATH)");
        using var options = new HttpRequestMessage(HttpMethod.Options, server.Endpoint);
        using var response = await server.Client.SendAsync(options, Ct);
        response.Headers.GetValues("Tus-Extension").Single().Split(',').Should().Contain("creation").And.NotContain("termination");
    }

    [Fact]
    public async Task Flags_OverrideEnvironmentVariables()
    {
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(
            Loopback(dir, "--base-path", "/from-flag/"),
            new Dictionary<string, string> { ["TUS_BASE_PATH"] = "/from-env/", ["TUS_PORT"] = "1" });

        server.Endpoint.AbsolutePath.Should().Be("/from-flag/");
        server.StandardOutput.Should().Contain("BasePath = /from-flag/ (--base-path)");
    }

    [Fact]
    public async Task Defaults_StoreUploadsInDataUnderTheWorkingDirectory()
    {
        var workingDirectory = ServerProcess.NewDirectory();

        // Only the listening address differs from a run without arguments: port 8080 may be taken on a test machine.
        await using var server = await ServerProcess.StartAsync([], new Dictionary<string, string> { ["TUS_HOST"] = "127.0.0.1", ["TUS_PORT"] = "0" }, workingDirectory);

        server.StandardOutput.Should().Contain("Storing uploads in " + Path.Combine(workingDirectory, "data"));
        server.Endpoint.AbsolutePath.Should().Be("/files/");
        server.StandardOutput.Should().Contain("UploadDir = ./data (default)").And.Contain("Host = 127.0.0.1 (TUS_HOST)");
    }

    [Fact]
    public async Task Sigterm_StopsGracefully()
    {
        var dir = ServerProcess.NewDirectory();
        var server = await ServerProcess.StartAsync(Loopback(dir));
        await using (server)
        {
            var exitCode = await server.StopAsync();

            exitCode.Should().Be(0);
            server.StandardOutput.Should().Contain("Application is shutting down");
        }
    }
}
