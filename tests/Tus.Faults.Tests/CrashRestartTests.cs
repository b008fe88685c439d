using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Tus.Faults.Tests;

/// <summary>The server killed with SIGKILL while uploads stream, restarted on the same directory, again and again.</summary>
public sealed class CrashRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Kill9_WhileUploadsStream_EveryUploadResumesAndEndsByteForByte()
    {
        var uploads = Figures.Scale("TUS_FAULTS_UPLOADS", 32);
        var kills = Figures.Scale("TUS_FAULTS_KILLS", 6);
        const int Length = 8 * 1024 * 1024;
        var directory = Figures.Directory();
        var data = Enumerable.Range(0, uploads).Select(i =>
        {
            var bytes = new byte[Length];
            new Random(i).NextBytes(bytes);
            return bytes;
        }).ToArray();

        var ids = new string?[uploads];
        var restarts = new List<double>();
        long bytesSent = 0;
        var cycles = 0;
        var killed = 0;
        var done = new bool[uploads];
        while (!done.All(d => d))
        {
            cycles++;
            await using var server = await ChildServer.StartAsync(directory);
            if (cycles > 1)
            {
                restarts.Add(server.StartedIn.TotalMilliseconds);
            }

            var killThisCycle = cycles <= kills;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var streams = Enumerable.Range(0, uploads).Where(i => !done[i]).Select(async i =>
            {
                try
                {
                    await StreamAsync(i);
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                {
                    // The server died under it.
                }
            }).ToList();

            async Task StreamAsync(int i)
            {
                if (ids[i] is null)
                {
                    ids[i] = (await TusWire.CreateAsync(server.Client, server.Endpoint, Length, Ct)).Segments[^1];
                }

                var upload = new Uri(server.Endpoint, ids[i]!);
                var offset = await TusWire.OffsetAsync(server.Client, upload, Ct);
                offset.Should().BeInRange(0, Length, "a restarted server knows every upload it accepted");
                // Paced so that the kill falls mid-body: 32 KiB every 20 ms per upload, about 1.6 MB/s.
                var body = new PacedContent(data[i].AsMemory((int)offset), 32 * 1024, TimeSpan.FromMilliseconds(20));
                try
                {
                    var status = await PatchAsync(server.Client, upload, offset, body, stop.Token);
                    Interlocked.Add(ref bytesSent, body.Sent);
                    if (status == HttpStatusCode.NoContent)
                    {
                        done[i] = true;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                {
                    Interlocked.Add(ref bytesSent, body.Sent);
                }
            }

            if (killThisCycle)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(300, 700)), Ct);
                await server.KillAsync();
                killed++;
                stop.Cancel();
            }

            await Task.WhenAll(streams);
            if (cycles > kills + 3)
            {
                break;
            }
        }

        // Verified through a fresh server, as a client would: every upload complete and equal to what was sent.
        await using (var final = await ChildServer.StartAsync(directory))
        {
            for (var i = 0; i < uploads; i++)
            {
                var upload = new Uri(final.Endpoint, ids[i]!);
                (await TusWire.OffsetAsync(final.Client, upload, Ct)).Should().Be(Length, $"upload {i} was resumed to its end");
                var stored = await final.Client.GetByteArrayAsync(upload, Ct);
                stored.AsSpan().SequenceEqual(data[i]).Should().BeTrue($"upload {i} holds exactly the bytes sent");
            }
        }

        Figures.Print(string.Create(CultureInfo.InvariantCulture,
            $"kill -9: {cycles} cycles, {killed} kills, {uploads} uploads of {Length >> 20} MiB, {bytesSent / (1 << 20)} MiB sent in total, every upload verified byte for byte; restart to first answer: median {Median(restarts):F0} ms, max {(restarts.Count > 0 ? restarts.Max() : 0):F0} ms"));
        done.Should().AllBeEquivalentTo(true);
        killed.Should().Be(kills, "every planned kill fell while uploads were streaming");
    }

    private static double Median(List<double> values) => values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);

    private static async Task<HttpStatusCode> PatchAsync(HttpClient client, Uri upload, long offset, HttpContent body, CancellationToken cancellationToken)
    {
        using var patch = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = body };
        patch.Headers.Add("Tus-Resumable", "1.0.0");
        patch.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        patch.Content.Headers.ContentType = new("application/offset+octet-stream");
        using var response = await client.SendAsync(patch, cancellationToken);
        return response.StatusCode;
    }

    /// <summary>A body sent in pieces with a pause between them, counting what it handed to the connection.</summary>
    private sealed class PacedContent(ReadOnlyMemory<byte> data, int piece, TimeSpan pause) : HttpContent
    {
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            for (var position = 0; position < data.Length; position += piece)
            {
                var slice = data.Slice(position, Math.Min(piece, data.Length - position));
                await stream.WriteAsync(slice, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                Interlocked.Add(ref _sent, slice.Length);
                await Task.Delay(pause, cancellationToken);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return true;
        }
    }
}
