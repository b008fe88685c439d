using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tus.Server.Tests;

/// <summary>OTLP export of the built server, received by a minimal OTLP/HTTP collector in the test.</summary>
public sealed class OtlpExportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OtlpEndpoint_FromTheStandardVariable_ReceivesTracesAndMetrics()
    {
        using var collector = new OtlpCollector();
        await using var server = await ServerProcess.StartAsync(
            ["--host", "127.0.0.1", "--port", "0", "--upload-dir", ServerProcess.NewDirectory()],
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            });

        using (var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint))
        {
            request.Headers.Add("Tus-Resumable", "1.0.0");
            request.Headers.Add("Upload-Length", "5");
            using var created = await server.Client.SendAsync(request, Ct);
            created.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        // Protocol buffers keep strings as they are, so span and metric names can be found in the exported bytes.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline && !(collector.Received("/v1/traces", "tus POST") && collector.Received("/v1/metrics", "tus.upload.created")))
        {
            await Task.Delay(100, Ct);
        }

        collector.Received("/v1/traces", "tus POST").Should().BeTrue("the request's span is exported");
        collector.Received("/v1/traces", "tus.store.create").Should().BeTrue("the store call's span is exported");
        collector.Received("/v1/metrics", "tus.upload.created").Should().BeTrue("the engine's metrics are exported");
        collector.Received("/v1/metrics", "tus-server").Should().BeTrue("the resource names the service");
    }

    /// <summary>Accepts OTLP/HTTP exports on a loopback port and keeps their bodies by path.</summary>
    private sealed class OtlpCollector : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _exports = new();
        private readonly Task _loop;

        public OtlpCollector()
        {
            var port = FreePort();
            Endpoint = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
            _listener.Prefixes.Add(Endpoint + "/");
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        public string Endpoint { get; }

        public bool Received(string path, string text)
        {
            var needle = Encoding.UTF8.GetBytes(text);
            return _exports.Any(e => e.Path == path && e.Body.AsSpan().IndexOf(needle) >= 0);
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5), CancellationToken.None);
        }

        private async Task AcceptAsync()
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

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _exports.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
                // An empty message is a valid export response: everything accepted.
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.ContentLength64 = 0;
                context.Response.Close();
            }
        }

        private static int FreePort()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
    }
}
