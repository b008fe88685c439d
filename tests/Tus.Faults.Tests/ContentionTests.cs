using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tus.Faults.Tests;

/// <summary>A slow client holding an upload, two requests racing for one, and a disk that fills up.</summary>
public sealed class ContentionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Slowloris_SilentOrDripping_NeverHoldsTheUploadPastTheReadTimeout()
    {
        var directory = Figures.Directory();
        await using var server = await ChildServer.StartAsync(directory, "--read-timeout", "1");

        // Silent after a few bytes: answered 500 ERR_READ_TIMEOUT about one read timeout later, bytes kept.
        var silent = await TusWire.CreateAsync(server.Client, server.Endpoint, 1000, Ct);
        using (var socket = await TusWire.ConnectAsync(server.Port, Ct))
        {
            var clock = Stopwatch.StartNew();
            await socket.SendAsync(TusWire.PatchHead(silent, 0, 1000, chunked: false).Concat(new byte[10]).ToArray(), SocketFlags.None, Ct);
            var answer = await ReceiveAnswerAsync(socket);
            var answeredIn = clock.Elapsed;
            answer.Should().StartWith("HTTP/1.1 500").And.Contain("ERR_READ_TIMEOUT");
            answeredIn.Should().BeLessThan(TimeSpan.FromSeconds(5));
            (await TusWire.OffsetAsync(server.Client, silent, Ct)).Should().Be(10);
            Figures.Print(string.Create(CultureInfo.InvariantCulture, $"slowloris (silent): answered {answeredIn.TotalMilliseconds:F0} ms after its last byte with a 1 s read timeout"));
        }

        // Dripping one byte every 300 ms (each byte restarts the read deadline): the next request for the upload takes it
        // over at once, and the dripped bytes are kept.
        var dripped = await TusWire.CreateAsync(server.Client, server.Endpoint, 1000, Ct);
        using (var socket = await TusWire.ConnectAsync(server.Port, Ct))
        {
            await socket.SendAsync(TusWire.PatchHead(dripped, 0, 1000, chunked: false), SocketFlags.None, Ct);
            for (var i = 0; i < 5; i++)
            {
                await socket.SendAsync(new byte[1], SocketFlags.None, Ct);
                await Task.Delay(300, Ct);
            }

            var clock = Stopwatch.StartNew();
            var offset = await TusWire.OffsetAsync(server.Client, dripped, Ct);
            var takenOverIn = clock.Elapsed;
            offset.Should().Be(5);
            takenOverIn.Should().BeLessThan(TimeSpan.FromSeconds(1), "a release request ends the stale body at once");
            Figures.Print(string.Create(CultureInfo.InvariantCulture, $"slowloris (dripping): a HEAD took the upload over in {takenOverIn.TotalMilliseconds:F0} ms"));
        }
    }

    [Fact]
    public async Task TwoPatches_RaceForOneUpload_NoServerErrorAndTheUploadStaysConsistent()
    {
        var rounds = Figures.Scale("TUS_FAULTS_RACES", 40);
        var directory = Figures.Directory();
        await using var server = await ChildServer.StartAsync(directory);
        const int Length = 256 * 1024;
        var statuses = new Dictionary<int, int>();
        for (var round = 0; round < rounds; round++)
        {
            var data = new byte[Length];
            new Random(round).NextBytes(data);
            var upload = await TusWire.CreateAsync(server.Client, server.Endpoint, Length, Ct);
            var racers = await Task.WhenAll(
                TusWire.PatchAsync(server.Client, upload, 0, data, Ct),
                TusWire.PatchAsync(server.Client, upload, 0, data, Ct));
            foreach (var status in racers)
            {
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }

            racers.Should().OnlyContain(s => s == 204 || s == 409 || s == 400 || s == 423, "the loser is refused or interrupted, never a server error");
            // Whatever the outcome, the upload is consistent: resume from its offset and compare.
            var offset = await TusWire.OffsetAsync(server.Client, upload, Ct);
            if (offset < Length)
            {
                (await TusWire.PatchAsync(server.Client, upload, offset, data.AsMemory((int)offset), Ct)).Should().Be(204);
            }

            (await server.Client.GetByteArrayAsync(upload, Ct)).AsSpan().SequenceEqual(data).Should().BeTrue();
        }

        Figures.Print($"races: {rounds} rounds of two PATCHes at offset 0; statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}x{s.Value}"))}; every upload consistent");
    }

    [Fact]
    public async Task DiskFull_MidUpload_Answers507AndResumesOnceSpaceIsBack()
    {
        var mountPoint = Figures.Directory();
        if (!await TryMountTmpfsAsync(mountPoint, "8m"))
        {
            Assert.Skip("a small tmpfs could not be mounted (needs root and mount permission): the disk-full test did not run");
        }

        try
        {
            var uploads = Path.Combine(mountPoint, "uploads");
            Directory.CreateDirectory(uploads);
            var filler = Path.Combine(mountPoint, "filler");
            await File.WriteAllBytesAsync(filler, new byte[4 * 1024 * 1024], Ct);
            await using var server = await ChildServer.StartAsync(uploads);
            const int Length = 6 * 1024 * 1024;
            var data = new byte[Length];
            new Random(3).NextBytes(data);
            var upload = await TusWire.CreateAsync(server.Client, server.Endpoint, Length, Ct);

            using (var patch = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new ByteArrayContent(data) })
            {
                patch.Headers.Add("Tus-Resumable", "1.0.0");
                patch.Headers.Add("Upload-Offset", "0");
                patch.Content.Headers.ContentType = new("application/offset+octet-stream");
                using var response = await server.Client.SendAsync(patch, Ct);
                ((int)response.StatusCode).Should().Be(507);
                (await response.Content.ReadAsStringAsync(Ct)).Should().Contain("ERR_STORAGE_FULL");
            }

            var kept = await TusWire.OffsetAsync(server.Client, upload, Ct);
            kept.Should().BeInRange(0, Length - 1);
            new FileInfo(Path.Combine(uploads, upload.Segments[^1])).Length.Should().Be(kept, "the offset is what the data file holds");

            File.Delete(filler);
            (await TusWire.PatchAsync(server.Client, upload, kept, data.AsMemory((int)kept), Ct)).Should().Be(204);
            (await server.Client.GetByteArrayAsync(upload, Ct)).AsSpan().SequenceEqual(data).Should().BeTrue();
            Figures.Print($"disk full: 507 after {kept} of {Length} bytes, resumed to the end once space was back");
        }
        finally
        {
            await RunAsync("umount", "-l", mountPoint);
        }
    }

    private static async Task<bool> TryMountTmpfsAsync(string mountPoint, string size) =>
        OperatingSystem.IsLinux() && await RunAsync("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mountPoint) == 0;

    private static async Task<int> RunAsync(string command, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            await process.WaitForExitAsync(Ct);
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    private static async Task<string> ReceiveAnswerAsync(Socket socket)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        int read;
        while (!received.ToString().Contains("ERR_", StringComparison.Ordinal)
            && (read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return received.ToString();
    }
}
