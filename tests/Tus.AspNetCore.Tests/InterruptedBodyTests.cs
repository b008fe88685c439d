using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tus.AspNetCore.Tests;

/// <summary>
/// Request bodies that stop early over real Kestrel: the engine must leave Kestrel's body reader in a state its own drain
/// can read from, so that no interrupted PATCH produces an error-level log entry.
/// </summary>
public sealed class InterruptedBodyTests
{
    private const int Declared = 64 * 1024;
    private const int Sent = 1000;
    private const int PerScenario = 100;
    private const int Concurrency = 25;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Patch_300InterruptedBodies_LogNoErrors()
    {
        var logs = new CapturingLoggerProvider();
        var server = await StartLoggedServerAsync(logs, readTimeout: TimeSpan.FromMilliseconds(300));
        var statuses = new ConcurrentBag<(string Scenario, int Status)>();
        var keptOffsets = new ConcurrentBag<long>();
        try
        {
            var port = server.BaseAddress.Port;

            // 1. The client goes away mid-body.
            await RunAsync(server, async upload =>
            {
                using var client = await SendPartialPatchAsync(port, upload);
                client.Client.LingerState = new LingerOption(enable: true, seconds: 0);
            });

            // 2. The client goes silent for longer than the read timeout.
            await RunAsync(server, async upload =>
            {
                using var client = await SendPartialPatchAsync(port, upload);
                statuses.Add(("timeout", await ReadStatusAsync(client.GetStream())));
            });

            // 3. Another request (a HEAD) asks for the upload while the body is still arriving; every other body chunked.
            var release = 0;
            await RunAsync(server, async upload =>
            {
                using var client = await SendPartialPatchAsync(port, upload, chunked: Interlocked.Increment(ref release) % 2 == 0);
                await Task.Delay(20, Ct);
                using var head = TestServer.Request(HttpMethod.Head, upload);
                using var response = await server.Client.SendAsync(head, Ct);
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                keptOffsets.Add(long.Parse(response.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture));
                statuses.Add(("release", await ReadStatusAsync(client.GetStream())));
            });
        }
        finally
        {
            // Stopping waits for every connection, so Kestrel's drains have all run before the logs are read.
            await server.DisposeAsync();
        }

        statuses.Where(s => s.Scenario == "timeout").Should().HaveCount(PerScenario).And.OnlyContain(s => s.Status == 500, "ERR_READ_TIMEOUT is a 500");
        statuses.Where(s => s.Scenario == "release").Should().HaveCount(PerScenario)
            .And.OnlyContain(s => s.Status == 400 || s.Status == 500, "the PATCH is interrupted (or timed out when the HEAD came late)");
        statuses.Count(s => s.Scenario == "release" && s.Status == 400).Should().BeGreaterThan(PerScenario / 2, "most PATCHes are released by the HEAD");
        keptOffsets.Should().OnlyContain(o => o == Sent, "the bytes that arrived are kept");
        logs.Entries.Where(e => e.Level >= LogLevel.Error).Should().BeEmpty();
    }

    [Fact]
    public async Task Stop_WithPatchesStreaming_AnswersThem503ShutdownAndLogsNoErrors()
    {
        var logs = new CapturingLoggerProvider();
        var server = await StartLoggedServerAsync(logs, readTimeout: TimeSpan.FromSeconds(30));
        var clients = new List<TcpClient>();
        List<int> statuses;
        try
        {
            var uploads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => server.CreateUploadAsync(Declared)));
            foreach (var upload in uploads)
            {
                clients.Add(await SendPartialPatchAsync(server.BaseAddress.Port, upload));
            }

            await Task.Delay(200, Ct);
            var stopping = server.App.StopAsync(Ct);
            statuses = [.. await Task.WhenAll(clients.Select(c => ReadStatusAsync(c.GetStream())))];

            // Answered, the clients go away (Kestrel would otherwise wait for the rest of each declared body).
            clients.ForEach(c => c.Dispose());
            await stopping.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            await server.DisposeAsync();
        }

        statuses.Should().OnlyContain(s => s == 503, "ERR_SERVER_SHUTDOWN");
        logs.Entries.Where(e => e.Level >= LogLevel.Error).Should().BeEmpty();
    }

    /// <summary>Runs <paramref name="scenario"/> on <see cref="PerScenario"/> fresh uploads, <see cref="Concurrency"/> at a time.</summary>
    /// <summary>A file-store server whose warnings and errors <paramref name="logs"/> captures.</summary>
    private static Task<TestServer> StartLoggedServerAsync(CapturingLoggerProvider logs, TimeSpan readTimeout) =>
        TestServer.StartAsync(configureServices: (builder, directory) =>
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddTus(o => o.ReadTimeout = readTimeout)
                .AddFileStore(o => o.Directory = directory)
                .AddMemoryLocker();
        });

    private static async Task RunAsync(TestServer server, Func<Uri, Task> scenario)
    {
        for (var batch = 0; batch < PerScenario; batch += Concurrency)
        {
            var uploads = await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => server.CreateUploadAsync(Declared)));
            await Task.WhenAll(uploads.Select(scenario)).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }
    }

    /// <summary>
    /// Opens a connection and sends a PATCH that declares <see cref="Declared"/> bytes (or is chunked) but sends only
    /// <see cref="Sent"/>.
    /// </summary>
    private static async Task<TcpClient> SendPartialPatchAsync(int port, Uri upload, bool chunked = false)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port, Ct);
        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {Declared}";
        var head = $"PATCH {upload.AbsolutePath} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTus-Resumable: 1.0.0\r\n" +
            $"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n{framing}\r\n\r\n";
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Ct);
        if (chunked)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(Sent.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), Ct);
        }

        await stream.WriteAsync(new byte[Sent], Ct);
        if (chunked)
        {
            await stream.WriteAsync("\r\n"u8.ToArray(), Ct);
        }

        await stream.FlushAsync(Ct);
        return client;
    }

    /// <summary>Reads a response's status line and headers; the status code.</summary>
    private static async Task<int> ReadStatusAsync(NetworkStream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[1024];
        while (!Encoding.ASCII.GetString(received.ToArray()).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        var statusLine = Encoding.ASCII.GetString(received.ToArray()).Split("\r\n")[0];
        return int.Parse(statusLine.Split(' ')[1], CultureInfo.InvariantCulture);
    }
}
