using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Tus.MultiInstance.Tests;

/// <summary>
/// What the Consul locker adds to each request: the same sequence of small PATCHes and HEADs against one Tus.Server
/// with the memory locker and one with the Consul locker, timed from the client. Reported in the test output; the only
/// assertion is a generous bound that catches a locker gone badly wrong (a poll, a timeout in the request path).
/// </summary>
public sealed class LatencyTests(ITestOutputHelper output)
{
    private const int Rounds = 300;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConsulLocker_SequentialRequests_AddAFewMillisecondsOverTheMemoryLocker()
    {
        var address = ConsulAgent.Require();
        var memory = await MeasureAsync(["--locker", "memory"]);
        var consul = await MeasureAsync(["--locker", "consul", "--consul-address", address, "--consul-key-prefix", ConsulAgent.NewKeyPrefix()]);

        foreach (var method in new[] { "PATCH", "HEAD" })
        {
            var (m, c) = (memory[method], consul[method]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{method} 4 KiB, {Rounds} sequential: memory p50 {P(m, 0.5):F2} ms p95 {P(m, 0.95):F2} ms mean {m.Average():F2} ms; consul p50 {P(c, 0.5):F2} ms p95 {P(c, 0.95):F2} ms mean {c.Average():F2} ms; added p50 {P(c, 0.5) - P(m, 0.5):F2} ms, mean {c.Average() - m.Average():F2} ms"));
        }

        P(consul["PATCH"], 0.5).Should().BeLessThan(100, "a lock taken and released through Consul costs a few round trips to the local agent, not a poll");
    }

    private static async Task<Dictionary<string, List<double>>> MeasureAsync(IReadOnlyList<string> lockerArgs)
    {
        await using var cluster = await Cluster.StartAsync(1, lockerArgs);
        var endpoint = cluster.Endpoints[0];
        using var http = new HttpClient();
        var body = new byte[4096];
        using var create = new HttpRequestMessage(HttpMethod.Post, endpoint);
        create.Headers.Add("Tus-Resumable", "1.0.0");
        create.Headers.Add("Upload-Length", ((Rounds + 20) * body.Length).ToString(CultureInfo.InvariantCulture));
        using var created = await http.SendAsync(create, Ct);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var upload = created.Headers.Location!.IsAbsoluteUri ? created.Headers.Location : new Uri(endpoint, created.Headers.Location);
        var times = new Dictionary<string, List<double>> { ["PATCH"] = [], ["HEAD"] = [] };
        var offset = 0L;
        for (var round = 0; round < Rounds + 20; round++)
        {
            using var patch = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new ByteArrayContent(body) };
            patch.Headers.Add("Tus-Resumable", "1.0.0");
            patch.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
            patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
            var clock = Stopwatch.StartNew();
            using (var patched = await http.SendAsync(patch, Ct))
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                patched.StatusCode.Should().Be(HttpStatusCode.NoContent);
                if (round >= 20)
                {
                    times["PATCH"].Add(elapsed);
                }
            }

            offset += body.Length;
            using var head = new HttpRequestMessage(HttpMethod.Head, upload);
            head.Headers.Add("Tus-Resumable", "1.0.0");
            clock.Restart();
            using (var headed = await http.SendAsync(head, Ct))
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                headed.StatusCode.Should().Be(HttpStatusCode.OK);
                if (round >= 20)
                {
                    times["HEAD"].Add(elapsed);
                }
            }
        }

        return times;
    }

    private static double P(List<double> values, double quantile)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(quantile * sorted.Count))];
    }
}
