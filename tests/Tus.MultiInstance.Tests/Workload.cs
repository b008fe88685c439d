using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;

namespace Tus.MultiInstance.Tests;

/// <summary>One PATCH as the client saw it: where it started, what the server answered, and when.</summary>
internal sealed record PatchRecord(string UploadId, int Instance, long SentOffset, int Status, long? ResponseOffset, string? Code, long Started, long Ended)
{
    public bool Wrote => ResponseOffset is { } end && end > SentOffset;
}

/// <summary>What a run of the workload saw.</summary>
internal sealed class WorkloadReport
{
    public int Files { get; set; }

    public int Completed { get; set; }

    public int Verified { get; set; }

    public List<string> Corrupt { get; } = [];

    public List<string> Unfinished { get; } = [];

    public int Requests { get; set; }

    public int Patches { get; set; }

    public int Interruptions { get; set; }

    public int Races { get; set; }

    /// <summary>Bodiless requests sent again after a broken keep-alive connection (client side, not a server answer).</summary>
    public int TransportRetries { get; set; }

    /// <summary>PATCH answers other than 204, by status and code (the refusals and retryable errors).</summary>
    public Dictionary<string, int> Refusals { get; } = [];

    public List<string> Interleavings { get; } = [];

    public TimeSpan Elapsed { get; set; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Files} files ({Completed} completed, {Verified} SHA-256 verified, {Corrupt.Count} corrupt, {Unfinished.Count} unfinished), ") +
        string.Create(CultureInfo.InvariantCulture, $"{Requests} requests ({Patches} PATCHes, {Interruptions} interrupted by the client, {Races} pairs of PATCHes raced on two instances, {TransportRetries} bodiless requests resent after a broken connection), ") +
        string.Create(CultureInfo.InvariantCulture, $"{Interleavings.Count} interleaved PATCHes, refusals: {(Refusals.Count == 0 ? "none" : string.Join(", ", Refusals.OrderBy(r => r.Key).Select(r => $"{r.Key} x{r.Value}")))}; {Elapsed.TotalSeconds:F1} s") +
        (Corrupt.Count > 0 ? "\ncorrupt: " + string.Join("; ", Corrupt.Take(5)) : "") +
        (Unfinished.Count > 0 ? "\nunfinished: " + string.Join("; ", Unfinished.Take(5)) : "") +
        (Interleavings.Count > 0 ? "\ninterleaved: " + string.Join("; ", Interleavings.Take(5)) : "");
}

/// <summary>
/// A tus client that spreads each upload over several server instances: every request goes to another instance, some
/// PATCHes are cut off by the client mid-body, and some are sent twice at once, to two instances, from the same offset.
/// It then downloads each finished upload and compares its SHA-256, and checks from its own records that no two PATCHes
/// of one upload both wrote overlapping bytes while both were in flight.
/// </summary>
internal sealed class Workload(IReadOnlyList<Uri> endpoints, int seed)
{
    private const string Tus = "1.0.0";
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly List<PatchRecord> _patches = [];
    private readonly Lock _gate = new();
    private int _requests;
    private int _interruptions;
    private int _races;
    private int _transportRetries;

    public double RaceShare { get; init; } = 0.2;

    public double InterruptShare { get; init; } = 0.15;

    public int MaxRequestsPerFile { get; init; } = 200;

    public async Task<WorkloadReport> RunAsync(int files, int parallelism, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var report = new WorkloadReport { Files = files };
        var next = -1;
        var workers = Enumerable.Range(0, parallelism).Select(w => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) is var file && file < files)
            {
                var outcome = await UploadOneAsync(new Random(seed * 7919 + file), file, cancellationToken);
                lock (_gate)
                {
                    switch (outcome.Result)
                    {
                        case "verified":
                            report.Completed++;
                            report.Verified++;
                            break;
                        case "corrupt":
                            report.Completed++;
                            report.Corrupt.Add(outcome.Detail);
                            break;
                        default:
                            report.Unfinished.Add(outcome.Detail);
                            break;
                    }
                }
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers);

        report.Elapsed = clock.Elapsed;
        report.Requests = _requests;
        report.Interruptions = _interruptions;
        report.Races = _races;
        report.TransportRetries = _transportRetries;
        report.Patches = _patches.Count;
        foreach (var refused in _patches.Where(p => p.Status != 204))
        {
            var key = refused.Status switch
            {
                0 => "aborted by client",
                -1 => "connection closed by server mid-body",
                _ => $"{refused.Status} {refused.Code}",
            };
            report.Refusals[key] = report.Refusals.GetValueOrDefault(key) + 1;
        }

        foreach (var upload in _patches.Where(p => p.Wrote).GroupBy(p => p.UploadId))
        {
            var wrote = upload.OrderBy(p => p.Started).ToList();
            for (var i = 0; i < wrote.Count; i++)
            {
                for (var j = i + 1; j < wrote.Count && wrote[j].Started < wrote[i].Ended; j++)
                {
                    var (a, b) = (wrote[i], wrote[j]);
                    if (a.SentOffset < b.ResponseOffset && b.SentOffset < a.ResponseOffset)
                    {
                        report.Interleavings.Add($"{a.UploadId}: [{a.SentOffset}, {a.ResponseOffset}) on instance {a.Instance} and [{b.SentOffset}, {b.ResponseOffset}) on instance {b.Instance} at the same time");
                    }
                }
            }
        }

        return report;
    }

    private async Task<(string Result, string Detail)> UploadOneAsync(Random random, int file, CancellationToken cancellationToken)
    {
        var data = new byte[random.Next(48 * 1024, 320 * 1024)];
        random.NextBytes(data);
        var expected = Convert.ToHexString(SHA256.HashData(data));
        var instance = random.Next(endpoints.Count);

        var creator = endpoints[instance];
        using var created = await SendRetryingAsync(() =>
        {
            var create = new HttpRequestMessage(HttpMethod.Post, creator);
            create.Headers.Add("Tus-Resumable", Tus);
            create.Headers.Add("Upload-Length", data.Length.ToString(CultureInfo.InvariantCulture));
            return create;
        }, cancellationToken);
        if (created.StatusCode != HttpStatusCode.Created || created.Headers.Location is not { } location)
        {
            return ("unfinished", $"file {file}: POST answered {(int)created.StatusCode}");
        }

        var id = location.ToString().TrimEnd('/').Split('/')[^1];
        var offset = 0L;
        for (var attempt = 0; offset < data.Length; attempt++)
        {
            if (attempt >= MaxRequestsPerFile)
            {
                return ("unfinished", $"file {file} ({id}): stuck at offset {offset} of {data.Length} after {attempt} rounds");
            }

            instance = (instance + 1 + random.Next(endpoints.Count - 1)) % endpoints.Count;
            var length = (int)Math.Min(data.Length - offset, random.Next(16 * 1024, 96 * 1024));
            var pick = random.NextDouble();
            if (pick < RaceShare)
            {
                Interlocked.Increment(ref _races);
                var other = (instance + 1 + random.Next(endpoints.Count - 1)) % endpoints.Count;
                await Task.WhenAll(
                    PatchAsync(id, instance, data, offset, length, abortAfter: null, throttle: true, cancellationToken),
                    PatchAsync(id, other, data, offset, length, abortAfter: null, throttle: true, cancellationToken));
            }
            else if (pick < RaceShare + InterruptShare)
            {
                Interlocked.Increment(ref _interruptions);
                await PatchAsync(id, instance, data, offset, length, abortAfter: random.Next(1, length), throttle: false, cancellationToken);
            }
            else
            {
                await PatchAsync(id, instance, data, offset, length, abortAfter: null, throttle: false, cancellationToken);
            }

            // Where the upload really stands, asked of yet another instance, as a tus client does after any doubt.
            instance = (instance + 1 + random.Next(endpoints.Count - 1)) % endpoints.Count;
            var known = await HeadAsync(id, instance, cancellationToken);
            if (known is null)
            {
                return ("unfinished", $"file {file} ({id}): HEAD failed at offset {offset}");
            }

            if (known > data.Length)
            {
                return ("corrupt", $"file {file} ({id}): offset {known} beyond its length {data.Length}");
            }

            offset = known.Value;
        }

        instance = (instance + 1) % endpoints.Count;
        var source = new Uri(endpoints[instance], id);
        using var got = await SendRetryingAsync(() => new HttpRequestMessage(HttpMethod.Get, source), cancellationToken);
        if (got.StatusCode != HttpStatusCode.OK)
        {
            return ("corrupt", $"file {file} ({id}): GET answered {(int)got.StatusCode}");
        }

        var stored = await got.Content.ReadAsByteArrayAsync(cancellationToken);
        var actual = Convert.ToHexString(SHA256.HashData(stored));
        return actual == expected
            ? ("verified", id)
            : ("corrupt", $"file {file} ({id}): {stored.Length} bytes stored for {data.Length} sent, SHA-256 {actual[..12]}… instead of {expected[..12]}…");
    }

    private async Task PatchAsync(string id, int instance, byte[] data, long offset, int length, int? abortAfter, bool throttle, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(endpoints[instance], id));
        request.Headers.Add("Tus-Resumable", Tus);
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Content = new ChunkContent(new ReadOnlyMemory<byte>(data, (int)offset, length), abortAfter, throttle);
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/offset+octet-stream");
        var started = Stopwatch.GetTimestamp();
        int status;
        long? responseOffset = null;
        string? code = null;
        try
        {
            using var response = await SendAsync(request, cancellationToken);
            status = (int)response.StatusCode;
            if (response.Headers.TryGetValues("Upload-Offset", out var values) && long.TryParse(values.First(), CultureInfo.InvariantCulture, out var parsed))
            {
                responseOffset = parsed;
            }

            if (status != 204)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                code = body.Split(':')[0].Trim();
            }
        }
        catch (HttpRequestException)
        {
            // Broken off by the client on purpose, or closed by the server while the body was still being sent (it
            // answered early, e.g. 409 or 400 ERR_UPLOAD_INTERRUPTED, and the client never read the answer).
            status = abortAfter is null ? -1 : 0;
        }

        var ended = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _patches.Add(new PatchRecord(id, instance, offset, status, responseOffset, code, started, ended));
        }
    }

    private async Task<long?> HeadAsync(string id, int instance, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var target = new Uri(endpoints[(instance + attempt) % endpoints.Count], id);
            using var response = await SendRetryingAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Head, target);
                request.Headers.Add("Tus-Resumable", Tus);
                return request;
            }, cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK && response.Headers.TryGetValues("Upload-Offset", out var values))
            {
                return long.Parse(values.First(), CultureInfo.InvariantCulture);
            }

            // A 503 (lock service unavailable, a lease lost) or a 423 is retryable, as for any tus client.
            if ((int)response.StatusCode is not (503 or 423 or 500))
            {
                return null;
            }

            await Task.Delay(50, cancellationToken);
        }

        return null;
    }

    /// <summary>
    /// Sends a request without a body, again on a transport failure, as any tus client would: a keep-alive connection that
    /// the server closed after answering a PATCH early (its body unread) can break under the next request.
    /// </summary>
    private async Task<HttpResponseMessage> SendRetryingAsync(Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = create();
            try
            {
                return await SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException) when (attempt < 5)
            {
                Interlocked.Increment(ref _transportRetries);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        return await _http.SendAsync(request, cancellationToken);
    }

    /// <summary>A PATCH body: the chunk, optionally in slow pieces (so that two racing PATCHes are in flight together),
    /// optionally broken off after some bytes (the connection drops mid-body; the server keeps what arrived).</summary>
    private sealed class ChunkContent(ReadOnlyMemory<byte> chunk, int? abortAfter, bool throttle) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var limit = abortAfter ?? chunk.Length;
            var piece = throttle ? Math.Max(1024, chunk.Length / 8) : chunk.Length;
            for (var sent = 0; sent < limit;)
            {
                var count = Math.Min(piece, limit - sent);
                await stream.WriteAsync(chunk.Slice(sent, count));
                await stream.FlushAsync();
                sent += count;
                if (throttle && sent < limit)
                {
                    await Task.Delay(3);
                }
            }

            if (abortAfter is not null)
            {
                await Task.Delay(20);
                throw new IOException("The client broke the upload off on purpose.");
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = chunk.Length;
            return true;
        }
    }
}
