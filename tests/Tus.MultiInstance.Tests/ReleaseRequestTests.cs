using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Tus.MultiInstance.Tests;

/// <summary>A request on instance B for an upload whose PATCH runs on instance A ends A's PATCH at once, with its data
/// kept, and B proceeds within a second.</summary>
public sealed class ReleaseRequestTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PatchOnInstanceB_WhileInstanceAHoldsTheUpload_EndsAsPatchKeepingItsDataAndProceedsWithinASecond()
    {
        var address = ConsulAgent.Require();
        await using var cluster = await Cluster.StartAsync(2, ["--locker", "consul", "--consul-address", address, "--consul-key-prefix", ConsulAgent.NewKeyPrefix()]);
        var (a, b) = (cluster.Endpoints[0], cluster.Endpoints[1]);
        using var http = new HttpClient();
        var data = RandomNumberGenerator.GetBytes(1 << 20);
        using var create = new HttpRequestMessage(HttpMethod.Post, a);
        create.Headers.Add("Tus-Resumable", "1.0.0");
        create.Headers.Add("Upload-Length", data.Length.ToString(CultureInfo.InvariantCulture));
        using var created = await http.SendAsync(create, Ct);
        var id = created.Headers.Location!.ToString().TrimEnd('/').Split('/')[^1];

        using var stall = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var clock = Stopwatch.StartNew();
        var onA = StalledPatch.SendAsync(new Uri(a, id), data, 256 * 1024, clock, stall.Token);
        await Task.Delay(1000, Ct);
        onA.IsCompleted.Should().BeFalse("the PATCH on A holds the upload while its body stalls");

        // B asks where the upload stands (HEAD takes the lock too), then appends the rest from there.
        var asked = clock.Elapsed;
        using var head = new HttpRequestMessage(HttpMethod.Head, new Uri(b, id));
        head.Headers.Add("Tus-Resumable", "1.0.0");
        using var headed = await http.SendAsync(head, Ct);
        var answeredOnB = clock.Elapsed - asked;
        var (status, code, offset, endedAt) = await onA.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        output.WriteLine($"A's PATCH ended {(endedAt - asked).TotalMilliseconds:F0} ms after B's request with {status} {code}, Upload-Offset {offset}; B's HEAD answered in {answeredOnB.TotalMilliseconds:F0} ms");

        headed.StatusCode.Should().Be(HttpStatusCode.OK);
        answeredOnB.Should().BeLessThan(TimeSpan.FromSeconds(1));
        status.Should().Be(400);
        code.Should().Be("ERR_UPLOAD_INTERRUPTED");
        offset.Should().Be(256 * 1024, "what A received before it was asked to let go is kept");
        var kept = long.Parse(headed.Headers.GetValues("Upload-Offset").First(), CultureInfo.InvariantCulture);
        kept.Should().Be(256 * 1024);

        using var patch = new HttpRequestMessage(HttpMethod.Patch, new Uri(b, id)) { Content = new ReadOnlyMemoryContent(data.AsMemory((int)kept)) };
        patch.Headers.Add("Tus-Resumable", "1.0.0");
        patch.Headers.Add("Upload-Offset", kept.ToString(CultureInfo.InvariantCulture));
        patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        using var patched = await http.SendAsync(patch, Ct);
        patched.StatusCode.Should().Be(HttpStatusCode.NoContent);
        SHA256.HashData(await http.GetByteArrayAsync(new Uri(a, id), Ct)).Should().Equal(SHA256.HashData(data));
        await stall.CancelAsync();
    }
}
