using System.Net.Sockets;
using System.Text;

namespace Tus.Faults.Tests;

/// <summary>
/// A client that closes or half-closes its connection mid-body: every body byte that reached the server before the cut is
/// kept, whatever the framing and wherever the cut falls. Real Kestrel, raw sockets.
/// </summary>
public sealed class ReceivedBytesTests
{
    private const int BodyLength = 1024 * 1024;
    private const int ChunkSize = 64 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A few bytes in, around the first chunk and block boundaries, the middle, and one byte before the end.</summary>
    public static readonly int[] CutPoints = [1, 3, 1000, ChunkSize - 1, ChunkSize + 7, 3 * ChunkSize, BodyLength / 2 + 13, BodyLength - 4096, BodyLength - 1];

    public enum Ending
    {
        /// <summary>close(): FIN after the last byte.</summary>
        Close,

        /// <summary>shutdown(SHUT_WR): FIN, but the client still listens for the answer.</summary>
        HalfClose,
    }

    public static TheoryData<bool, Ending> Cases() => new()
    {
        { false, Ending.Close },
        { false, Ending.HalfClose },
        { true, Ending.Close },
        { true, Ending.HalfClose },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Patch_ConnectionEndsMidBody_KeepsEveryByteReceived(bool chunked, Ending ending)
    {
        await using var host = await KestrelHost.StartAsync(keepReceivedBytes: true);
        var (sent, kept, failures) = await CutAtEveryPointAsync(host, chunked, ending);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{(chunked ? "chunked" : "content-length")} {ending}: kept {kept} of {sent} bytes received over {CutPoints.Length} cuts ({100.0 * kept / sent:F2}%)");
        failures.Should().BeEmpty();
        kept.Should().Be(sent);
    }

    /// <summary>Cuts one upload per cut point and returns the body bytes sent before the cuts, the bytes kept, and each miss.</summary>
    internal static async Task<(long Sent, long Kept, List<string> Failures)> CutAtEveryPointAsync(KestrelHost host, bool chunked, Ending ending)
    {
        var body = new byte[BodyLength];
        new Random(42).NextBytes(body);
        var endpoint = new Uri(host.BaseAddress, "files/");
        long sent = 0, kept = 0;
        var failures = new List<string>();
        foreach (var cut in CutPoints)
        {
            var upload = await TusWire.CreateAsync(host.Client, endpoint, BodyLength, Ct);
            using (var socket = await TusWire.ConnectAsync(host.Port, Ct))
            {
                var wire = TusWire.PatchHead(upload, 0, BodyLength, chunked).Concat(TusWire.BodyPrefix(body, cut, chunked, ChunkSize)).ToArray();
                await socket.SendAsync(wire, SocketFlags.None, Ct);
                if (ending == Ending.HalfClose)
                {
                    socket.Shutdown(SocketShutdown.Send);
                    await DrainUntilClosedAsync(socket);
                }
            }

            // The store's file, not a HEAD, tells when the server is done: a HEAD is a second request for the upload, which
            // ends a body the server is still reading unless it has seen the client's FIN by then.
            var dataFile = Path.Combine(host.Directory, upload.Segments[^1]);
            await WaitForLengthAsync(dataFile, cut, TimeSpan.FromSeconds(10));
            var offset = await TusWire.SettledOffsetAsync(host.Client, upload, cut, TimeSpan.FromSeconds(10), Ct);
            sent += cut;
            kept += Math.Max(0, offset);
            if (offset != cut)
            {
                failures.Add($"cut at {cut}: kept {offset}");
                continue;
            }

            var stored = await File.ReadAllBytesAsync(dataFile, Ct);
            if (!stored.AsSpan().SequenceEqual(body.AsSpan(0, cut)))
            {
                failures.Add($"cut at {cut}: stored bytes differ from those sent");
            }
        }

        return (sent, kept, failures);
    }

    private static async Task WaitForLengthAsync(string path, long expected, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline && (!File.Exists(path) || new FileInfo(path).Length < expected))
        {
            await Task.Delay(20, Ct);
        }
    }

    /// <summary>Reads whatever the server answers until it closes its side (or 10 s pass).</summary>
    private static async Task DrainUntilClosedAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
        }
    }
}
