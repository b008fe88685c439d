using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Tus.Faults.Tests;

/// <summary>Thousands of clients that vanish mid-body in different ways, against the real server process.</summary>
public sealed class VanishingClientTests
{
    private const int Declared = 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public enum Vanish
    {
        Close,
        HalfClose,
        Reset,
        HeadersOnly,
        Stall,
    }

    [Fact]
    public async Task Storm_ClientsVanishMidBody_BytesKeptAndMemoryAndDescriptorsFlat()
    {
        var clients = Figures.Scale("TUS_FAULTS_CLIENTS", 2500);
        var directory = Figures.Directory();
        await using var server = await ChildServer.StartAsync(directory, "--read-timeout", "1");
        var body = new byte[Declared];
        new Random(7).NextBytes(body);
        var modes = Enum.GetValues<Vanish>();

        // A warm-up round first, so that "before" is a server that has JIT-compiled and pooled what a storm needs.
        await RunAsync(server, directory, body, clients / 2, modes, new ConcurrentBag<string>(), new long[2]);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        var before = server.Resources();

        var failures = new ConcurrentBag<string>();
        var closeFigures = new long[2];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await RunAsync(server, directory, body, clients, modes, failures, closeFigures);
        var elapsed = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        var after = server.Resources();

        // The server still serves.
        var probe = await TusWire.CreateAsync(server.Client, server.Endpoint, 3, Ct);
        (await TusWire.PatchAsync(server.Client, probe, 0, "abc"u8.ToArray(), Ct)).Should().Be(204);

        Figures.Print(string.Create(CultureInfo.InvariantCulture,
            $"vanishing clients: {clients} in {elapsed.TotalSeconds:F1} s ({string.Join("/", modes)}); after close and half-close cuts kept {closeFigures[1]} of {closeFigures[0]} bytes received ({(closeFigures[0] == 0 ? 100 : 100.0 * closeFigures[1] / closeFigures[0]):F2}%); RSS {before.RssKiB / 1024} MiB -> {after.RssKiB / 1024} MiB, fds {before.Fds} -> {after.Fds}"));
        failures.Should().BeEmpty();
        closeFigures[1].Should().Be(closeFigures[0]);
        after.Fds.Should().BeLessThanOrEqualTo(before.Fds + 16, "descriptors do not leak");
        after.RssKiB.Should().BeLessThan(before.RssKiB + (32 * 1024), "resident memory stays flat (within 32 MiB of a server that already saw a storm)");
    }

    /// <summary>Runs <paramref name="count"/> clients, <paramref name="concurrency"/> at a time, cycling through the ways to vanish.</summary>
    private static async Task RunAsync(ChildServer server, string directory, byte[] body, int count, Vanish[] modes, ConcurrentBag<string> failures, long[] closeFigures)
    {
        const int Concurrency = 64;
        var next = -1;
        var workers = Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < count)
            {
                var mode = modes[n % modes.Length];
                var cut = mode == Vanish.HeadersOnly ? 0 : 1 + (int)((uint)HashCode.Combine(n, 17) % (256 * 1024));
                try
                {
                    await VanishAsync(server, directory, body, mode, cut, failures, closeFigures);
                }
                catch (Exception ex) when (ex is SocketException or IOException or HttpRequestException)
                {
                    failures.Add($"{mode} at {cut}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        });
        await Task.WhenAll(workers);
    }

    private static async Task VanishAsync(ChildServer server, string directory, byte[] body, Vanish mode, int cut, ConcurrentBag<string> failures, long[] closeFigures)
    {
        var upload = await TusWire.CreateAsync(server.Client, server.Endpoint, Declared, Ct);
        var chunked = cut % 2 == 1;
        using (var socket = await TusWire.ConnectAsync(server.Port, Ct))
        {
            var wire = TusWire.PatchHead(upload, 0, Declared, chunked).Concat(TusWire.BodyPrefix(body, cut, chunked, 64 * 1024)).ToArray();
            await socket.SendAsync(wire, SocketFlags.None, Ct);
            switch (mode)
            {
                case Vanish.Reset:
                    socket.LingerState = new LingerOption(enable: true, seconds: 0);
                    break;
                case Vanish.HalfClose:
                    socket.Shutdown(SocketShutdown.Send);
                    await ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(10));
                    break;
                case Vanish.Stall:
                    // Silent until the server's read timeout (1 s) ends the request: it answers, and closes.
                    var answer = await ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(10), stopAtAnswer: true);
                    if (!answer.StartsWith("HTTP/1.1 500", StringComparison.Ordinal) || !answer.Contains("ERR_READ_TIMEOUT", StringComparison.Ordinal))
                    {
                        failures.Add($"stall at {cut}: answered {answer.Split('\r')[0]}");
                    }

                    break;
            }
        }

        if (mode is Vanish.Reset)
        {
            // A reset lets the network stack drop what was not yet read: only consistency is checked (below).
            return;
        }

        var dataFile = Path.Combine(directory, upload.Segments[^1]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline && new FileInfo(dataFile).Length < cut)
        {
            await Task.Delay(20, Ct);
        }

        var offset = await TusWire.SettledOffsetAsync(server.Client, upload, cut, TimeSpan.FromSeconds(5), Ct);
        if (mode is Vanish.Close or Vanish.HalfClose)
        {
            Interlocked.Add(ref closeFigures[0], cut);
            Interlocked.Add(ref closeFigures[1], Math.Max(0, offset));
        }

        if (offset != cut)
        {
            failures.Add($"{mode} at {cut} ({(chunked ? "chunked" : "content-length")}): kept {offset}");
        }
    }

    private static async Task<string> ReadUntilClosedAsync(Socket socket, TimeSpan patience, bool stopAtAnswer = false)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(patience);
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (stopAtAnswer && received.ToString().Contains("ERR_", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
        }

        return received.ToString();
    }
}
