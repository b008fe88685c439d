using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Tus.MultiInstance.Tests;

/// <summary>
/// The Consul agent dies while two Tus.Server instances hold locks in it (a private agent, so no other test notices).
/// No process dies; the PATCHes in flight end with their data kept and a retryable 503 (ERR_LOCK_LOST); new requests fail
/// fast with 503 ERR_LOCKER_UNAVAILABLE while it is down; service resumes by itself when it is back, and the uploads
/// finish intact.
/// </summary>
public sealed class AgentFailureTests(ITestOutputHelper output)
{
    private const int Size = 1 << 20;
    private const int SentBeforeStall = 256 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConsulAgentKilled_WhileLocksAreHeld_RequestsEndRetryablyAndServiceResumesByItself()
    {
        await using var agent = await PrivateConsulAgent.StartAsync(Ct);
        await using var cluster = await Cluster.StartAsync(2, ["--locker", "consul", "--consul-address", agent.Address, "--consul-key-prefix", ConsulAgent.NewKeyPrefix()]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(90) };
        var endpoints = cluster.Endpoints;
        var data = new byte[4][];
        var ids = new string[4];
        for (var i = 0; i < 4; i++)
        {
            data[i] = RandomNumberGenerator.GetBytes(Size);
            ids[i] = await CreateAsync(http, endpoints[i % 2], Size);
        }

        // Three PATCHes hold their uploads' locks: each sends a quarter of its file, then stalls. The fourth upload is idle.
        using var stalls = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var clock = Stopwatch.StartNew();
        var inFlight = Enumerable.Range(0, 3).Select(i => StalledPatch.SendAsync(new Uri(endpoints[i % 2], ids[i]), data[i], SentBeforeStall, clock, stalls.Token)).ToList();
        await Task.Delay(1500, Ct);
        inFlight.Should().OnlyContain(t => !t.IsCompleted, "the stalled PATCHes must still hold their locks when the agent dies");

        await agent.KillAsync();
        var killedAt = clock.Elapsed;

        // New requests fail fast and retryably while the agent is down.
        var (headStatus, headCode, headTime) = await TimedAsync(http, HttpMethod.Head, new Uri(endpoints[1], ids[3]), null);
        var (patchStatus, patchCode, patchTime) = await TimedAsync(http, HttpMethod.Patch, new Uri(endpoints[0], ids[3]), data[3][..1024]);
        output.WriteLine($"agent down: HEAD {headStatus} in {headTime.TotalMilliseconds:F0} ms, PATCH {patchStatus} {patchCode} in {patchTime.TotalMilliseconds:F0} ms");
        headStatus.Should().Be(503);
        patchStatus.Should().Be(503);
        patchCode.Should().Be("ERR_LOCKER_UNAVAILABLE");
        patchTime.Should().BeLessThan(TimeSpan.FromSeconds(2), "a request must not hang while the lock service is down");

        // The PATCHes holding locks end with a retryable error once their leases cannot be renewed (half the 15 s TTL).
        var all = Task.WhenAll(inFlight);
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30), Ct));
        all.IsCompleted.Should().BeTrue($"the PATCHes holding locks must end once their leases are lost\n{cluster.Output}");
        var ended = await all;
        foreach (var (status, code, offset, at) in ended)
        {
            output.WriteLine($"in-flight PATCH: {status} {code}, Upload-Offset {offset?.ToString(CultureInfo.InvariantCulture) ?? "-"}, {(at - killedAt).TotalSeconds:F1} s after the agent died");
            status.Should().Be(503);
            code.Should().Be("ERR_LOCK_LOST");
            (at - killedAt).Should().BeLessThan(TimeSpan.FromSeconds(12), "a lease must be given up within half the session TTL of the last renewal");
        }

        (await cluster.UnhealthyAsync()).Should().BeEmpty($"no instance may die because the lock service did\n{cluster.Output}");

        // The agent comes back (a -dev agent, with empty state); the servers carry on without being restarted.
        await agent.StartAgainAsync(Ct);
        var back = Stopwatch.StartNew();
        var kept = new long[4];
        for (var i = 0; i < 4; i++)
        {
            kept[i] = await HeadUntilAnsweredAsync(http, new Uri(endpoints[(i + 1) % 2], ids[i]));
        }

        output.WriteLine($"agent back: HEAD answered after {back.Elapsed.TotalMilliseconds:F0} ms; offsets kept {string.Join(", ", kept)}");
        kept[..3].Should().OnlyContain(k => k >= SentBeforeStall / 2, "the bytes a PATCH wrote before its lease was lost are kept");
        for (var i = 0; i < 4; i++)
        {
            using var finish = Patch(new Uri(endpoints[i % 2], ids[i]), kept[i], data[i].AsMemory((int)kept[i]));
            using var finished = await http.SendAsync(finish, Ct);
            finished.StatusCode.Should().Be(HttpStatusCode.NoContent);
            var stored = await http.GetByteArrayAsync(new Uri(endpoints[(i + 1) % 2], ids[i]), Ct);
            SHA256.HashData(stored).Should().Equal(SHA256.HashData(data[i]), $"upload {i} must be intact");
        }

        (await cluster.UnhealthyAsync()).Should().BeEmpty();
        await stalls.CancelAsync();
    }

    private static async Task<string> CreateAsync(HttpClient http, Uri endpoint, long length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        using var response = await http.SendAsync(request, Ct);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return response.Headers.Location!.ToString().TrimEnd('/').Split('/')[^1];
    }

    private static HttpRequestMessage Patch(Uri upload, long offset, ReadOnlyMemory<byte> body)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new ReadOnlyMemoryContent(body) };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return request;
    }

    private static async Task<(int Status, string? Code, TimeSpan Time)> TimedAsync(HttpClient http, HttpMethod method, Uri upload, byte[]? body)
    {
        using var request = body is null ? new HttpRequestMessage(method, upload) : Patch(upload, 0, body);
        if (body is null)
        {
            request.Headers.Add("Tus-Resumable", "1.0.0");
        }

        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return ((int)response.StatusCode, text.Split(':')[0].Trim(), clock.Elapsed);
    }

    private static async Task<long> HeadUntilAnsweredAsync(HttpClient http, Uri upload)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, upload);
            request.Headers.Add("Tus-Resumable", "1.0.0");
            using var response = await http.SendAsync(request, Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return long.Parse(response.Headers.GetValues("Upload-Offset").First(), CultureInfo.InvariantCulture);
            }

            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), $"service must resume by itself once the agent is back; HEAD still answers {(int)response.StatusCode}");
            await Task.Delay(100, Ct);
        }
    }
}
