using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Tus.Server.Tests;

/// <summary>
/// tusd-compatible external hooks of the real server: shell scripts in a hooks directory, and an HTTP hook endpoint run
/// by the test on 127.0.0.1 (including one that fails before it answers).
/// </summary>
public sealed class ExternalHookTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string[] Loopback(string uploadDir, params string[] more) =>
        ["--host", "127.0.0.1", "--port", "0", "--upload-dir", uploadDir, .. more];

    /// <summary>
    /// A pre-create hook as tusd documents them: it reads the hook request from stdin, refuses executables with its own
    /// status, header and body, renames uploads called rename-me.txt, and logs to stderr. Plain sh and grep.
    /// </summary>
    private const string PreCreateScript = """
        #!/bin/sh
        request=$(cat)
        echo "pre-create saw a request of $(printf '%s' "$request" | wc -c) bytes" >&2
        if printf '%s' "$request" | grep -q '"filetype":"application/x-msdownload"'; then
          cat <<'JSON'
        {
          "RejectUpload": true,
          "HTTPResponse": {
            "StatusCode": 415,
            "Body": "{\"message\":\"executables are not accepted\"}",
            "Header": { "Content-Type": "application/json", "X-Rejected-By": "pre-create" }
          }
        }
        JSON
          exit 0
        fi
        if printf '%s' "$request" | grep -q '"filename":"rename-me.txt"'; then
          echo '{"ChangeFileInfo":{"ID":"renamed-by-hook","MetaData":{"filename":"renamed.txt","checked":"yes"}}}'
        fi
        exit 0
        """;

    /// <summary>Keeps each post-finish request in a file named after the upload (hooks run in the hooks directory).</summary>
    private const string PostFinishScript = """
        #!/bin/sh
        cat > "finished-$TUS_ID.json"
        echo "size=$TUS_SIZE offset=$TUS_OFFSET" > "finished-$TUS_ID.env"
        """;

    /// <summary>Our extension: refuses requests on an upload that carry no Authorization header.</summary>
    private const string AuthorizeScript = """
        #!/bin/sh
        if cat | grep -q '"Authorization":\["Bearer'; then exit 0; fi
        echo '{"RejectUpload":true,"HTTPResponse":{"Body":"sign in first"}}'
        """;

    private const string BrokenPreTerminateScript = """
        #!/bin/sh
        echo "database unreachable: password=hunter2" >&2
        exit 3
        """;

    [Fact]
    public async Task FileHooks_TusdStyleScripts_RejectRenameAuthorizeAndSeeTheUpload()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "the hook scripts are POSIX shell scripts");
        var hooks = ServerProcess.NewDirectory();
        WriteScript(hooks, "pre-create", PreCreateScript);
        WriteScript(hooks, "post-finish", PostFinishScript);
        WriteScript(hooks, "authorize", AuthorizeScript);
        WriteScript(hooks, "pre-terminate", BrokenPreTerminateScript);
        // post-create is enabled but has no file: skipped, as with tusd.
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir,
            "--hooks-dir", hooks, "--hooks-enabled-events", "pre-create,post-create,post-finish,pre-terminate,authorize"));
        var client = new TusClient(server);

        using var rejected = await client.CreateAsync(3, ("filename", "setup.exe"), ("filetype", "application/x-msdownload"));
        rejected.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        rejected.Headers.GetValues("X-Rejected-By").Should().Equal("pre-create");
        rejected.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await rejected.Content.ReadAsStringAsync(Ct)).Should().Be("""{"message":"executables are not accepted"}""");
        Directory.GetFiles(dir).Should().BeEmpty();

        using var renamed = await client.CreateAsync(5, ("filename", "rename-me.txt"));
        renamed.StatusCode.Should().Be(HttpStatusCode.Created);
        var upload = new Uri(server.Endpoint, renamed.Headers.Location!);
        upload.Segments[^1].Should().Be("renamed-by-hook");

        using (var head = await client.SendAsync(HttpMethod.Head, upload, bearer: false))
        {
            head.StatusCode.Should().Be(HttpStatusCode.Forbidden, "the authorize hook wants an Authorization header");
        }

        using (var head = await client.SendAsync(HttpMethod.Head, upload))
        {
            head.StatusCode.Should().Be(HttpStatusCode.OK);
            head.Headers.GetValues("Upload-Metadata").Single().Should().Contain("checked " + B64("yes"));
        }

        using (var patch = await client.PatchAsync(upload, 0, "hello"))
        {
            patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        var finished = Path.Combine(hooks, "finished-renamed-by-hook.json");
        await Eventually(() => File.Exists(Path.Combine(hooks, "finished-renamed-by-hook.env")));
        using var request = JsonDocument.Parse(await File.ReadAllTextAsync(finished, Ct));
        var root = request.RootElement;
        root.GetProperty("Type").GetString().Should().Be("post-finish");
        var uploadJson = root.GetProperty("Event").GetProperty("Upload");
        uploadJson.GetProperty("ID").GetString().Should().Be("renamed-by-hook");
        uploadJson.GetProperty("Size").GetInt64().Should().Be(5);
        uploadJson.GetProperty("Offset").GetInt64().Should().Be(5);
        uploadJson.GetProperty("SizeIsDeferred").GetBoolean().Should().BeFalse();
        uploadJson.GetProperty("IsPartial").GetBoolean().Should().BeFalse();
        uploadJson.GetProperty("IsFinal").GetBoolean().Should().BeFalse();
        uploadJson.GetProperty("MetaData").GetProperty("filename").GetString().Should().Be("renamed.txt");
        uploadJson.GetProperty("Storage").GetProperty("Path").GetString().Should().Be(Path.Combine(dir, "renamed-by-hook"));
        var http = root.GetProperty("Event").GetProperty("HTTPRequest");
        http.GetProperty("Method").GetString().Should().Be("PATCH");
        http.GetProperty("URI").GetString().Should().Be("/files/renamed-by-hook");
        http.GetProperty("RemoteAddr").GetString().Should().StartWith("127.0.0.1:");
        http.GetProperty("Header").GetProperty("Tus-Resumable").EnumerateArray().Select(v => v.GetString()).Should().Equal("1.0.0");
        http.GetProperty("Header").GetProperty("Upload-Offset").EnumerateArray().Select(v => v.GetString()).Should().Equal("0");
        (await File.ReadAllTextAsync(Path.Combine(hooks, "finished-renamed-by-hook.env"), Ct)).Trim().Should().Be("size=5 offset=5");

        using (var delete = await client.SendAsync(HttpMethod.Delete, upload))
        {
            delete.StatusCode.Should().Be(HttpStatusCode.InternalServerError, "the pre-terminate hook exits 3");
            var body = await delete.Content.ReadAsStringAsync(Ct);
            body.Should().StartWith("ERR_HOOK_FAILED").And.NotContain("hunter2");
        }

        File.Exists(Path.Combine(dir, "renamed-by-hook")).Should().BeTrue("a failed pre-terminate keeps the upload");
        await Eventually(() => server.StandardOutput.Contains("password=hunter2", StringComparison.Ordinal));
        server.StandardOutput.Should().Contain("pre-create saw a request of", "hook programs' stderr goes to the log");
    }

    [Fact]
    public async Task HttpHooks_FailingTwiceThenAnswering_AreRetriedAndTheirAnswerApplied()
    {
        await using var hooks = await HookEndpoint.StartAsync((hookType, attempt) => (hookType, attempt) switch
        {
            ("pre-create", < 3) => (500, "not yet"),
            ("pre-create", _) => (200, """{"ChangeFileInfo":{"ID":"from-http-hook"},"HTTPResponse":{"Header":{"X-Hook":"http"}}}"""),
            _ => (200, ""),
        });
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir,
            "--hooks-http", hooks.Url, "--hooks-http-retry", "3", "--hooks-http-backoff", "100ms",
            "--hooks-http-forward-headers", "Authorization", "--hooks-enabled-events", "pre-create,post-finish"));
        var client = new TusClient(server, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        using var created = await client.CreateAsync(2, ("filename", "a.txt"));
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.GetValues("X-Hook").Should().Equal("http");
        var upload = new Uri(server.Endpoint, created.Headers.Location!);
        upload.Segments[^1].Should().Be("from-http-hook");
        using (var patch = await client.PatchAsync(upload, 0, "ok"))
        {
            patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        await Eventually(() => hooks.Received.Any(r => r.Type == "post-finish"));
        var preCreates = hooks.Received.Where(r => r.Type == "pre-create").ToList();
        preCreates.Should().HaveCount(3, "two 500s, then the answer");
        preCreates.Should().OnlyContain(r => r.Authorization == "Bearer alice", "Authorization is forwarded as a header");
        preCreates.Should().OnlyContain(r => r.ContentType == "application/json");
        hooks.Received.Should().OnlyContain(r => r.TraceParent != null && r.TraceParent.Contains("0af7651916cd43dd8448eb211c80319c"),
            "hook requests carry the client request's trace, post-hooks included");
        using var finish = JsonDocument.Parse(hooks.Received.Single(r => r.Type == "post-finish").Body);
        finish.RootElement.GetProperty("Event").GetProperty("Upload").GetProperty("Offset").GetInt64().Should().Be(2);
        finish.RootElement.GetProperty("Event").GetProperty("HTTPRequest").GetProperty("Header").GetProperty("Authorization")
            .EnumerateArray().Select(v => v.GetString()).Should().Equal("Bearer alice");
    }

    [Fact]
    public async Task HttpHooks_PostReceiveStopUpload_EndsTheRunningPatchAndKeepsItsBytes()
    {
        // Stops the upload once all 1,000 bytes sent have arrived, so that the kept offset is known.
        await using var hooks = await HookEndpoint.StartAsync((hookType, _, body) => hookType == "post-receive" && body.Contains("\"Offset\":1000,", StringComparison.Ordinal)
            ? (200, """{"StopUpload":true,"HTTPResponse":{"StatusCode":410,"Body":"project deleted","Header":{"X-Stopped":"yes"}}}""")
            : (200, ""));
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir,
            "--hooks-http", hooks.Url, "--hooks-enabled-events", "post-receive", "--progress-hooks-interval", "100"));
        using var created = await new TusClient(server).CreateAsync(100_000);
        var path = new Uri(server.Endpoint, created.Headers.Location!).AbsolutePath;

        // Raw, so that the body can stop half-way: 1,000 of the 100,000 bytes announced, then silence.
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Endpoint.Port, Ct);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.Endpoint.Port}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n" +
            "Content-Type: application/offset+octet-stream\r\nContent-Length: 100000\r\n\r\n"), Ct);
        await stream.WriteAsync(new byte[1000], Ct);
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var response = Encoding.ASCII.GetString(buffer, 0, read);

        response.Should().StartWith("HTTP/1.1 410").And.Contain("X-Stopped: yes").And.Contain("Upload-Offset: 1000").And.EndWith("project deleted");
        new FileInfo(Path.Combine(dir, path.Split('/')[^1])).Length.Should().Be(1000, "a stopped upload keeps its bytes");
    }

    [Fact]
    public async Task HttpHooks_RejectingAnUpload_AnswerWithTheHooksResponse()
    {
        await using var hooks = await HookEndpoint.StartAsync((_, _) =>
            (200, """{"RejectUpload":true,"HTTPResponse":{"StatusCode":403,"Body":"quota reached","Header":{"X-Quota":"0"}}}"""));
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir, "--hooks-http", hooks.Url));

        using var created = await new TusClient(server).CreateAsync(2);

        created.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        created.Headers.GetValues("X-Quota").Should().Equal("0");
        (await created.Content.ReadAsStringAsync(Ct)).Should().Be("quota reached");
        Directory.GetFiles(dir).Should().BeEmpty();
    }

    [Fact]
    public async Task HttpHooks_EndpointAlwaysFailing_CreationAnswered500AfterTheRetriesWithoutDetails()
    {
        await using var hooks = await HookEndpoint.StartAsync((_, _) => (503, "secret internals"));
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir,
            "--hooks-http", hooks.Url, "--hooks-http-retry", "2", "--hooks-http-backoff", "50ms"));

        using var created = await new TusClient(server).CreateAsync(2);

        created.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await created.Content.ReadAsStringAsync(Ct)).Should().StartWith("ERR_HOOK_FAILED").And.NotContain("secret");
        hooks.Received.Should().HaveCount(3, "the first attempt and two retries");
        Directory.GetFiles(dir).Should().BeEmpty();
    }

    [Fact]
    public async Task HttpHooks_PostHookEndpointDown_UploadsStillSucceed()
    {
        // Nothing listens on this port: every post-hook request fails with a network error.
        var closedPort = HookEndpoint.FreePort();
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(Loopback(dir,
            "--hooks-http", $"http://127.0.0.1:{closedPort}/hooks", "--hooks-http-retry", "1", "--hooks-http-backoff", "10ms",
            "--hooks-enabled-events", "post-create,post-receive,post-finish"));
        var client = new TusClient(server);

        using var created = await client.CreateAsync(2);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        using var patch = await client.PatchAsync(new Uri(server.Endpoint, created.Headers.Location!), 0, "ok");

        patch.StatusCode.Should().Be(HttpStatusCode.NoContent, "a failing post-hook never turns a stored upload into an error");
        await Eventually(() => server.StandardOutput.Contains("post-finish hook for upload", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--hooks-enabled-events", "pre-create,post-upload", "post-upload")]
    [InlineData("--hooks-http", "ftp://example.invalid/", "http:// or https://")]
    [InlineData("--hooks-http-retry", "-1", "HooksHttpRetry")]
    public async Task BadHookSettings_ExitWith2AndSayWhy(string flag, string value, string expected)
    {
        var dir = ServerProcess.NewDirectory();
        string[] hookArgs = flag == "--hooks-http" ? [flag, value] : ["--hooks-http", "http://127.0.0.1:9/", flag, value];

        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(Loopback(dir, hookArgs));

        exitCode.Should().Be(2);
        stderr.Should().Contain(expected);
    }

    [Fact]
    public async Task HooksDirAndHooksHttpTogether_ExitWith2()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(
            Loopback(ServerProcess.NewDirectory(), "--hooks-dir", ServerProcess.NewDirectory(), "--hooks-http", "http://127.0.0.1:9/"));

        exitCode.Should().Be(2);
        stderr.Should().Contain("cannot both be set");
    }

    private static void WriteScript(string directory, string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static async Task Eventually(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    /// <summary>Just enough of a tus client, sending "Authorization: Bearer alice" unless told not to.</summary>
    private sealed class TusClient(ServerProcess server, string? traceparent = null)
    {
        public Task<HttpResponseMessage> CreateAsync(long length, params (string Key, string Value)[] metadata)
        {
            var post = new HttpRequestMessage(HttpMethod.Post, server.Endpoint);
            post.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
            if (metadata.Length > 0)
            {
                post.Headers.Add("Upload-Metadata", string.Join(',', metadata.Select(m => m.Key + " " + B64(m.Value))));
            }

            return SendAsync(post, bearer: true);
        }

        public Task<HttpResponseMessage> PatchAsync(Uri upload, long offset, string body)
        {
            var patch = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new StringContent(body) };
            patch.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
            patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
            return SendAsync(patch, bearer: true);
        }

        public Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri upload, bool bearer = true) =>
            SendAsync(new HttpRequestMessage(method, upload), bearer);

        private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, bool bearer)
        {
            using (request)
            {
                request.Headers.Add("Tus-Resumable", "1.0.0");
                if (bearer)
                {
                    request.Headers.Add("Authorization", "Bearer alice");
                }

                if (traceparent is not null)
                {
                    request.Headers.TryAddWithoutValidation("traceparent", traceparent);
                }

                return await server.Client.SendAsync(request, Ct);
            }
        }
    }
}

/// <summary>An HTTP hook endpoint on 127.0.0.1 for one test: answers each hook request as the test says, and records it.</summary>
internal sealed class HookEndpoint : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<string, int, string, (int Status, string Body)> _answer;
    private readonly Task _serving;
    private readonly List<Request> _received = [];

    private HookEndpoint(HttpListener listener, string url, Func<string, int, string, (int Status, string Body)> answer)
    {
        _listener = listener;
        Url = url;
        _answer = answer;
        _serving = Task.Run(ServeAsync);
    }

    public string Url { get; }

    public IReadOnlyList<Request> Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToList();
            }
        }
    }

    /// <param name="answer">Status and body for a hook type and the attempt number (1 for the first request of that type).</param>
    public static Task<HookEndpoint> StartAsync(Func<string, int, (int Status, string Body)> answer) =>
        StartAsync((hookType, attempt, _) => answer(hookType, attempt));

    /// <param name="answer">Status and body for a hook type, the attempt number and the hook request's JSON.</param>
    public static Task<HookEndpoint> StartAsync(Func<string, int, string, (int Status, string Body)> answer)
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}/hooks/";
        var listener = new HttpListener();
        listener.Prefixes.Add(url);
        listener.Start();
        return Task.FromResult(new HookEndpoint(listener, url, answer));
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var type = JsonDocument.Parse(body).RootElement.GetProperty("Type").GetString()!;
            int attempt;
            lock (_received)
            {
                _received.Add(new Request(type, body, context.Request.Headers["Authorization"], context.Request.ContentType, context.Request.Headers["traceparent"]));
                attempt = _received.Count(r => r.Type == type);
            }

            var (status, answer) = _answer(type, attempt, body);
            var bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving.ConfigureAwait(false);
    }

    internal sealed record Request(string Type, string Body, string? Authorization, string? ContentType, string? TraceParent);
}
