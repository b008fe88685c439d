using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Tus.Conformance.Internal;
using Tus.Locking;
using Tus.Protocol;
using Tus.Stores;
using Xunit;

// tus clients choose md5 and sha1 checksums; the tests must send them (CA5350/CA5351 are about security uses).
#pragma warning disable CA5350, CA5351

namespace Tus.Conformance;

/// <summary>
/// End-to-end scenarios: the tus engine (<see cref="TusEngine"/>) runs over the fixture's store and locker, and an
/// <see cref="HttpClient"/> drives it as a tus client would: creation with metadata and with a first body, uploads in
/// chunks, an interrupted PATCH that is resumed, checksums (matching and 460), concatenation, termination, expiration with
/// the engine's sweep, deferred lengths, and downloads with ranges. Scenarios of a capability the store does not declare
/// report themselves skipped.
/// </summary>
/// <remarks>
/// <para>By default the client hands each request to the engine in memory, with no server and no socket: the package
/// needs no web framework. A body the client breaks off reaches the engine as a reset connection does through Kestrel.
/// Override <see cref="CreateTransportAsync"/> to run the same scenarios through a real server.</para>
/// <para>Each test gets its own store, locker and engine. The engine's clock is a manual one (<see cref="AdvanceClock"/>),
/// uploads expire <see cref="UploadLifetime"/> after their last write, and <see cref="RemoveExpiredUploadsAsync"/> runs
/// the engine's sweep on demand. When a request is answered with an unexpected status, the failure shows the warnings
/// and errors the engine logged, with the store's exception.</para>
/// </remarks>
/// <typeparam name="TFixture">The fixture that creates the store and the locker.</typeparam>
public abstract class ProtocolConformanceTests<TFixture> : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : class, IProtocolFixture
{
    private ITusStore? _store;
    private ITusLocker? _locker;
    private ObservedStore? _observed;
    private ManualClock? _clock;
    private EngineLog? _log;
    private TusEngine? _engine;
    private ProtocolTransport? _transport;

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store and the locker.</param>
    protected ProtocolConformanceTests(TFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        Fixture = fixture;
    }

    /// <summary>How long unfinished uploads live after their last write (<see cref="TusOptions.Expiration"/>): one day.</summary>
    protected static TimeSpan UploadLifetime { get; } = TimeSpan.FromDays(1);

    /// <summary>The engine clock's time when a test starts.</summary>
    protected static DateTimeOffset StartTime { get; } = new(2032, 3, 4, 5, 6, 7, TimeSpan.Zero);

    /// <summary>The fixture.</summary>
    protected TFixture Fixture { get; }

    /// <summary>The store under test (the engine uses it through a wrapper that forwards exactly its capabilities).</summary>
    protected ITusStore Store => _store ?? throw NotRunning();

    /// <summary>The locker the engine uses.</summary>
    protected ITusLocker Locker => _locker ?? throw NotRunning();

    /// <summary>The engine under test.</summary>
    protected TusEngine Engine => _engine ?? throw NotRunning();

    /// <summary>A client for the engine; requests built with <see cref="TusRequest"/> carry <c>Tus-Resumable</c>.</summary>
    protected HttpClient Client => (_transport ?? throw NotRunning()).Client;

    /// <summary>The tus endpoint, e.g. <c>http://127.0.0.1/files/</c>.</summary>
    protected Uri Endpoint => (_transport ?? throw NotRunning()).Endpoint;

    /// <summary>The running test's cancellation token.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates the test's store, locker and engine, and the transport to the engine.</summary>
    public virtual async ValueTask InitializeAsync()
    {
        _store = await Fixture.CreateStoreAsync(Ct);
        _locker = await Fixture.CreateLockerAsync(Ct);
        _observed = new ObservedStore(_store);
        _clock = new ManualClock(StartTime);
        _log = new EngineLog();
        var options = new TusOptions
        {
            Expiration = UploadLifetime,
            ExpirationSweepInterval = TimeSpan.FromDays(20),
        };
        _engine = new TusEngine(_observed, _locker, options, _clock, _log, CancellationToken.None);
        _transport = await CreateTransportAsync(_engine, Ct);
    }

    /// <summary>Stops the transport and the engine, and hands the store and locker back to the fixture.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        var (transport, engine, locker, store) = (_transport, _engine, _locker, _store);
        (_transport, _engine, _locker, _store, _observed) = (null, null, null, null, null);
        try
        {
            if (transport is not null)
            {
                await transport.DisposeAsync();
            }
        }
        finally
        {
            engine?.Dispose();
            if (locker is not null)
            {
                await Fixture.DisposeLockerAsync(locker, CancellationToken.None);
            }

            if (store is not null)
            {
                await Fixture.DisposeStoreAsync(store, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Creates the client the scenarios send their requests with. Default: a client whose handler gives each request to
    /// <paramref name="engine"/> in memory, at <c>http://127.0.0.1/files/</c>. Override it to host the engine in a real
    /// server (the repository's own tests run the suite through Kestrel this way); the server must route the endpoint's
    /// requests to this very engine instance, whose store is the test's (wrapped) store.
    /// </summary>
    /// <param name="engine">The engine of the running test; the suite disposes it after the transport.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The transport; the suite disposes it when the test ends.</returns>
    protected virtual ValueTask<ProtocolTransport> CreateTransportAsync(TusEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var endpoint = new Uri("http://127.0.0.1/files/");
        var client = new HttpClient(new EngineHttpHandler(engine, endpoint.AbsolutePath)) { Timeout = TimeSpan.FromMinutes(1) };
        return ValueTask.FromResult(new ProtocolTransport(client, endpoint));
    }

    /// <summary>OPTIONS announces exactly the extensions the store's declared capabilities allow.</summary>
    [Fact]
    public virtual async Task Options_Extensions_MatchTheDeclaredCapabilities()
    {
        using var request = TusRequest(HttpMethod.Options, Endpoint);
        using var response = await Client.SendAsync(request, Ct);

        await AssertStatusAsync(response, HttpStatusCode.NoContent, "OPTIONS");
        var announced = HeaderValue(response, "Tus-Extension")?.Split(',').Select(e => e.Trim()).ToHashSet(StringComparer.Ordinal) ?? [];
        var expected = new HashSet<string>(StringComparer.Ordinal) { "creation", "creation-with-upload" };
        AddIf(Store.DeferredLength is not null, "creation-defer-length");
        AddIf(Store.Termination is not null, "termination");
        AddIf(Store.Concatenation is not null, "concatenation", "concatenation-unfinished");
        AddIf(Store.Expiration is not null && Store.Listing is not null, "expiration");
        AddIf(Store.Checksum is not null, "checksum", "checksum-trailer");
        Assert.True(
            expected.SetEquals(announced),
            $"The engine announces '{string.Join(",", announced.Order(StringComparer.Ordinal))}' but the store declares capabilities for '{string.Join(",", expected.Order(StringComparer.Ordinal))}'. A store's capability properties must not change once it is created.");

        void AddIf(bool condition, params string[] extensions)
        {
            if (condition)
            {
                expected.UnionWith(extensions);
            }
        }
    }

    /// <summary>A created upload is described by HEAD with offset zero, its length, and its metadata byte for byte.</summary>
    [Fact]
    public virtual async Task Post_WithMetadata_HeadDescribesTheNewUpload()
    {
        var metadata = UploadMetadata.Create(
        [
            new("filename", Encoding.UTF8.GetBytes("Überweisung – 報告書 ✓.pdf")),
            new("binary", new byte[] { 0x00, 0xFF, 0xC3, 0x28, 0x80 }),
            new("empty", ReadOnlyMemory<byte>.Empty),
        ]);

        var upload = await CreateUploadAsync(1234, metadata);
        using var head = await HeadAsync(upload);

        await AssertStatusAsync(head, HttpStatusCode.OK, "HEAD of a new upload");
        Assert.Equal("0", HeaderValue(head, "Upload-Offset"));
        Assert.Equal("1234", HeaderValue(head, "Upload-Length"));
        Assert.True(UploadMetadata.TryParse(HeaderValue(head, "Upload-Metadata"), out var returned), "HEAD returned a malformed Upload-Metadata header.");
        Assert.Equal(metadata.ToString(), returned.ToString());
    }

    /// <summary>An upload sent in several PATCH requests completes, each answer giving the new offset, and downloads
    /// whole.</summary>
    [Fact]
    public virtual async Task Patch_InChunks_CompletesTheUploadAndDownloadsWhole()
    {
        var data = Pattern.Bytes(90, 0, 200_000);
        var upload = await CreateUploadAsync(data.Length);
        int[] chunks = [1, 65_536, 100_000, data.Length - 1 - 65_536 - 100_000];

        var offset = 0;
        foreach (var chunk in chunks)
        {
            using var patch = await PatchAsync(upload, offset, data.AsMemory(offset, chunk).ToArray());
            offset += chunk;
            await AssertStatusAsync(patch, HttpStatusCode.NoContent, $"PATCH of {chunk} bytes");
            Assert.Equal(offset.ToString(CultureInfo.InvariantCulture), HeaderValue(patch, "Upload-Offset"));
        }

        await AssertUploadIsAsync(upload, data);
    }

    /// <summary>A creation that carries the first bytes (creation-with-upload) stores them; the rest follows by PATCH.</summary>
    [Fact]
    public virtual async Task Post_WithBody_StoresTheFirstBytes()
    {
        var data = Pattern.Bytes(91, 0, 1000);
        using var post = TusRequest(HttpMethod.Post, Endpoint, OctetStream(data.AsMemory(0, 400).ToArray()));
        post.Headers.Add("Upload-Length", "1000");
        using var created = await Client.SendAsync(post, Ct);
        await AssertStatusAsync(created, HttpStatusCode.Created, "POST with a body");
        Assert.Equal("400", HeaderValue(created, "Upload-Offset"));
        var upload = LocationOf(created);

        using (var head = await HeadAsync(upload))
        {
            Assert.Equal("400", HeaderValue(head, "Upload-Offset"));
        }

        using var rest = await PatchAsync(upload, 400, data.AsMemory(400).ToArray());
        await AssertStatusAsync(rest, HttpStatusCode.NoContent, "PATCH of the remaining bytes");
        await AssertUploadIsAsync(upload, data);
    }

    /// <summary>
    /// A PATCH whose body breaks off midway (the client fails after sending the first 100,000 of 300,000 bytes) keeps
    /// exactly the bytes that arrived: HEAD reports them, and the upload resumes from there to completion.
    /// </summary>
    [Fact]
    public virtual async Task Patch_InterruptedMidway_KeepsWhatArrivedAndResumes()
    {
        const int sent = 100_000;
        var data = Pattern.Bytes(92, 0, 300_000);
        var upload = await CreateUploadAsync(data.Length);
        var id = upload.Segments[^1];
        var body = new InterruptedContent(data, sent, () => _observed!.WaitForConsumedAsync(id, sent, TimeSpan.FromSeconds(10), Ct));

        using (var patch = TusRequest(HttpMethod.Patch, upload, body))
        {
            patch.Content!.Headers.ContentType = new MediaTypeHeaderValue(TusHeaders.OffsetOctetStream);
            patch.Headers.Add("Upload-Offset", "0");
            var failure = await Record.ExceptionAsync(async () => (await Client.SendAsync(patch, Ct)).Dispose());
            Assert.True(failure is HttpRequestException or IOException, $"The interrupted PATCH ended with {failure?.GetType().Name ?? "a response"} instead of a failed request.");
        }

        Assert.True(body.WaitFailure is null, $"The store never read the {sent} bytes sent before the interruption: {body.WaitFailure?.Message}");
        using (var head = await HeadAsync(upload))
        {
            await AssertStatusAsync(head, HttpStatusCode.OK, "HEAD after the interrupted PATCH");
            Assert.True(HeaderValue(head, "Upload-Offset") == sent.ToString(CultureInfo.InvariantCulture), $"HEAD reports offset {HeaderValue(head, "Upload-Offset")} after an interrupted PATCH that delivered {sent} bytes; the store must keep exactly what arrived.");
        }

        using var resumed = await PatchAsync(upload, sent, data.AsMemory(sent).ToArray());
        await AssertStatusAsync(resumed, HttpStatusCode.NoContent, "PATCH resuming after the interruption");
        await AssertUploadIsAsync(upload, data);
    }

    /// <summary>A PATCH at an offset other than the upload's is answered 409 and changes nothing.</summary>
    [Fact]
    public virtual async Task Patch_WrongOffset_Answers409AndKeepsTheUpload()
    {
        var data = Pattern.Bytes(93, 0, 100);
        var upload = await CreateUploadAsync(100);
        using (var first = await PatchAsync(upload, 0, data.AsMemory(0, 30).ToArray()))
        {
            await AssertStatusAsync(first, HttpStatusCode.NoContent, "the first PATCH");
            Assert.Equal("30", HeaderValue(first, "Upload-Offset"));
        }

        using (var stale = await PatchAsync(upload, 0, Pattern.Bytes(99, 0, 10)))
        {
            await AssertStatusAsync(stale, HttpStatusCode.Conflict, "a PATCH at offset 0 of an upload at offset 30");
        }

        using (var head = await HeadAsync(upload))
        {
            Assert.Equal("30", HeaderValue(head, "Upload-Offset"));
        }

        using var rest = await PatchAsync(upload, 30, data.AsMemory(30).ToArray());
        await AssertStatusAsync(rest, HttpStatusCode.NoContent, "the PATCH at the right offset");
        await AssertUploadIsAsync(upload, data);
    }

    /// <summary>HEAD and PATCH of an upload that does not exist are answered 404.</summary>
    [Fact]
    public virtual async Task Head_UnknownUpload_Answers404()
    {
        await CreateUploadAsync(10);
        var unknown = new Uri(Endpoint, UploadId.New());

        using var head = await HeadAsync(unknown);
        using var patch = await PatchAsync(unknown, 0, [1, 2, 3]);

        await AssertStatusAsync(head, HttpStatusCode.NotFound, "HEAD of an unknown upload");
        await AssertStatusAsync(patch, HttpStatusCode.NotFound, "PATCH of an unknown upload");
    }

    /// <summary>Uploads sent at the same time to different ids each complete with their own bytes.</summary>
    [Fact]
    public virtual async Task Patch_ParallelUploads_EachCompleteWithTheirOwnBytes()
    {
        const int uploads = 4;
        const int length = 1024 * 1024;
        var targets = new Uri[uploads];
        for (var i = 0; i < uploads; i++)
        {
            targets[i] = await CreateUploadAsync(length);
        }

        var patches = targets.Select((upload, i) => Task.Run(async () =>
        {
            using var response = await PatchAsync(upload, 0, Pattern.Bytes(100 + i, 0, length));
            await AssertStatusAsync(response, HttpStatusCode.NoContent, $"PATCH of upload {i}");
        }));
        await Task.WhenAll(patches);

        for (var i = 0; i < uploads; i++)
        {
            await AssertUploadIsAsync(targets[i], Pattern.Bytes(100 + i, 0, length));
        }
    }

    /// <summary>A download with a single range gets exactly that range (206 with Content-Range), a suffix range the last
    /// bytes, and a range past the end 416.</summary>
    [Fact]
    public virtual async Task Get_WithRange_ReturnsExactlyThatRange()
    {
        var data = Pattern.Bytes(94, 0, 10_000);
        var upload = await CreateUploadAsync(data.Length);
        using (var patch = await PatchAsync(upload, 0, data))
        {
            await AssertStatusAsync(patch, HttpStatusCode.NoContent, "PATCH of the whole upload");
        }

        (string Range, int Start, int Count)[] ranges = [("bytes=100-199", 100, 100), ("bytes=0-0", 0, 1), ("bytes=-50", 9950, 50), ("bytes=9990-", 9990, 10), ("bytes=4095-4096", 4095, 2)];
        foreach (var (range, start, count) in ranges)
        {
            using var response = await DownloadAsync(upload, range);
            await AssertStatusAsync(response, HttpStatusCode.PartialContent, $"GET with Range: {range}");
            Assert.Equal($"bytes {start}-{start + count - 1}/{data.Length}", response.Content.Headers.ContentRange?.ToString());
            var body = await response.Content.ReadAsByteArrayAsync(Ct);
            Assert.True(body.AsSpan().SequenceEqual(data.AsSpan(start, count)), $"GET with Range: {range} returned {body.Length} bytes that are not bytes {start} to {start + count - 1} of the upload.");
        }

        using var beyond = await DownloadAsync(upload, "bytes=10000-");
        await AssertStatusAsync(beyond, HttpStatusCode.RequestedRangeNotSatisfiable, "GET with a range past the end");
    }

    /// <summary>PATCH requests with a matching Upload-Checksum (sha1, md5, sha256) are stored.</summary>
    [Fact]
    public virtual async Task Checksum_MatchingBodies_AreStored()
    {
        Assert.SkipWhen(Store.Checksum is null, "The store does not offer the checksum capability (ITusStore.Checksum is null).");
        var data = Pattern.Bytes(95, 0, 3000);
        var upload = await CreateUploadAsync(data.Length);

        (string Algorithm, byte[] Digest)[] checksums = [("sha1", SHA1.HashData(data.AsSpan(0, 1000))), ("md5", MD5.HashData(data.AsSpan(1000, 1000))), ("sha256", SHA256.HashData(data.AsSpan(2000, 1000)))];
        for (var i = 0; i < checksums.Length; i++)
        {
            var (algorithm, digest) = checksums[i];
            using var patch = await PatchAsync(upload, i * 1000, data.AsMemory(i * 1000, 1000).ToArray(), r => r.Headers.Add("Upload-Checksum", $"{algorithm} {Convert.ToBase64String(digest)}"));
            await AssertStatusAsync(patch, HttpStatusCode.NoContent, $"PATCH with a matching {algorithm} checksum");
            Assert.Equal(((i + 1) * 1000).ToString(CultureInfo.InvariantCulture), HeaderValue(patch, "Upload-Offset"));
        }

        await AssertUploadIsAsync(upload, data);
    }

    /// <summary>A PATCH whose body does not match its Upload-Checksum is answered 460 and its bytes are discarded: the
    /// offset stays, and the correct bytes can be sent again.</summary>
    [Fact]
    public virtual async Task Checksum_MismatchedBody_Answers460AndDiscardsItsBytes()
    {
        Assert.SkipWhen(Store.Checksum is null, "The store does not offer the checksum capability (ITusStore.Checksum is null).");
        var data = Pattern.Bytes(96, 0, 2000);
        var upload = await CreateUploadAsync(data.Length);
        using (var first = await PatchAsync(upload, 0, data.AsMemory(0, 1000).ToArray()))
        {
            await AssertStatusAsync(first, HttpStatusCode.NoContent, "the first PATCH");
        }

        var wrong = Convert.ToBase64String(SHA1.HashData(Pattern.Bytes(97, 0, 1000)));
        using (var corrupt = await PatchAsync(upload, 1000, Pattern.Bytes(98, 0, 1000), r => r.Headers.Add("Upload-Checksum", "sha1 " + wrong)))
        {
            await AssertStatusAsync(corrupt, (HttpStatusCode)460, "a PATCH whose checksum does not match");
        }

        using (var head = await HeadAsync(upload))
        {
            Assert.True(HeaderValue(head, "Upload-Offset") == "1000", $"HEAD reports offset {HeaderValue(head, "Upload-Offset")} after a PATCH rejected with 460; its bytes must be discarded (offset 1000).");
        }

        var right = Convert.ToBase64String(SHA1.HashData(data.AsSpan(1000)));
        using (var retry = await PatchAsync(upload, 1000, data.AsMemory(1000).ToArray(), r => r.Headers.Add("Upload-Checksum", "sha1 " + right)))
        {
            await AssertStatusAsync(retry, HttpStatusCode.NoContent, "the PATCH sent again with the right bytes");
        }

        await AssertUploadIsAsync(upload, data);
    }

    /// <summary>A final upload of finished partial uploads has their total length and their data in the listed order.</summary>
    [Fact]
    public virtual async Task Concatenation_FinalOfFinishedPartials_HasTheirDataInListedOrder()
    {
        Assert.SkipWhen(Store.Concatenation is null, "The store does not offer the concatenation capability (ITusStore.Concatenation is null).");
        var first = Pattern.Bytes(101, 0, 3000);
        var second = Pattern.Bytes(102, 0, 70_000);
        var a = await CreatePartialAsync(first);
        var b = await CreatePartialAsync(second);

        var final = await CreateUploadAsync(null, concat: $"final;{b.AbsolutePath} {a.AbsolutePath}");

        using (var head = await HeadAsync(final))
        {
            await AssertStatusAsync(head, HttpStatusCode.OK, "HEAD of the final upload");
            Assert.Equal("73000", HeaderValue(head, "Upload-Length"));
            Assert.Equal("73000", HeaderValue(head, "Upload-Offset"));
            Assert.StartsWith("final;", HeaderValue(head, "Upload-Concat") ?? string.Empty, StringComparison.Ordinal);
        }

        await AssertUploadIsAsync(final, [.. second, .. first]);
    }

    /// <summary>A final upload created before its partials finish (concatenation-unfinished) has no offset yet, and is
    /// complete with their data once they finish.</summary>
    [Fact]
    public virtual async Task Concatenation_FinalBeforePartialsFinish_CompletesOnceTheyDo()
    {
        Assert.SkipWhen(Store.Concatenation is null, "The store does not offer the concatenation capability (ITusStore.Concatenation is null).");
        var first = Pattern.Bytes(103, 0, 5000);
        var second = Pattern.Bytes(104, 0, 100);
        var a = await CreateUploadAsync(first.Length, concat: "partial");
        var b = await CreateUploadAsync(second.Length, concat: "partial");
        using (var part = await PatchAsync(a, 0, first.AsMemory(0, 2000).ToArray()))
        {
            await AssertStatusAsync(part, HttpStatusCode.NoContent, "PATCH of part of the first partial upload");
        }

        var final = await CreateUploadAsync(null, concat: $"final;{a.AbsolutePath} {b.AbsolutePath}");
        using (var waiting = await HeadAsync(final))
        {
            await AssertStatusAsync(waiting, HttpStatusCode.OK, "HEAD of a final upload whose partials are unfinished");
            Assert.Null(HeaderValue(waiting, "Upload-Offset"));
        }

        using (var rest = await PatchAsync(a, 2000, first.AsMemory(2000).ToArray()))
        {
            await AssertStatusAsync(rest, HttpStatusCode.NoContent, "PATCH finishing the first partial upload");
        }

        using (var whole = await PatchAsync(b, 0, second))
        {
            await AssertStatusAsync(whole, HttpStatusCode.NoContent, "PATCH of the second partial upload");
        }

        using (var head = await HeadAsync(final))
        {
            await AssertStatusAsync(head, HttpStatusCode.OK, "HEAD of the final upload once its partials finished");
            Assert.Equal("5100", HeaderValue(head, "Upload-Length"));
            Assert.Equal("5100", HeaderValue(head, "Upload-Offset"));
        }

        await AssertUploadIsAsync(final, [.. first, .. second]);
    }

    /// <summary>A terminated upload is gone: DELETE answers 204, then HEAD, PATCH, GET and another DELETE answer 404.</summary>
    [Fact]
    public virtual async Task Delete_ExistingUpload_IsGoneAfterwards()
    {
        Assert.SkipWhen(Store.Termination is null, "The store does not offer termination (ITusStore.Termination is null).");
        var upload = await CreateUploadAsync(100);
        using (var patch = await PatchAsync(upload, 0, Pattern.Bytes(105, 0, 40)))
        {
            await AssertStatusAsync(patch, HttpStatusCode.NoContent, "PATCH before the DELETE");
        }

        using (var delete = await SendAsync(HttpMethod.Delete, upload))
        {
            await AssertStatusAsync(delete, HttpStatusCode.NoContent, "DELETE");
        }

        using var head = await HeadAsync(upload);
        using var patchAfter = await PatchAsync(upload, 40, Pattern.Bytes(105, 40, 10));
        using var get = await DownloadAsync(upload, null);
        using var deleteAgain = await SendAsync(HttpMethod.Delete, upload);
        await AssertStatusAsync(head, HttpStatusCode.NotFound, "HEAD after DELETE");
        await AssertStatusAsync(patchAfter, HttpStatusCode.NotFound, "PATCH after DELETE");
        await AssertStatusAsync(get, HttpStatusCode.NotFound, "GET after DELETE");
        await AssertStatusAsync(deleteAgain, HttpStatusCode.NotFound, "a second DELETE");
    }

    /// <summary>
    /// An unfinished upload carries Upload-Expires from its creation, moved on by each write; once the clock passes it,
    /// the upload answers 410, the engine's sweep removes it from the store, and it answers 404.
    /// </summary>
    [Fact]
    public virtual async Task Expiration_UnfinishedUploadPastItsExpiry_AnswersGoneAndIsSwept()
    {
        SkipUnlessExpirationIsServed();
        var upload = await CreateUploadAsync(100);
        using (var created = await HeadAsync(upload))
        {
            Assert.True(HeaderValue(created, "Upload-Expires") == HttpDate(StartTime + UploadLifetime), $"HEAD of a new upload gives Upload-Expires '{HeaderValue(created, "Upload-Expires")}'; the expiry given at creation must be kept.");
        }

        AdvanceClock(TimeSpan.FromHours(1));
        using (var patch = await PatchAsync(upload, 0, Pattern.Bytes(106, 0, 10)))
        {
            await AssertStatusAsync(patch, HttpStatusCode.NoContent, "PATCH");
            Assert.Equal(HttpDate(StartTime + TimeSpan.FromHours(1) + UploadLifetime), HeaderValue(patch, "Upload-Expires"));
        }

        using (var head = await HeadAsync(upload))
        {
            Assert.True(HeaderValue(head, "Upload-Expires") == HttpDate(StartTime + TimeSpan.FromHours(1) + UploadLifetime), $"HEAD after a PATCH gives Upload-Expires '{HeaderValue(head, "Upload-Expires")}'; a write moves the expiry on (sliding expiration).");
        }

        AdvanceClock(UploadLifetime + TimeSpan.FromHours(1));
        using (var expired = await HeadAsync(upload))
        {
            await AssertStatusAsync(expired, HttpStatusCode.Gone, "HEAD of an expired upload");
        }

        var removed = await RemoveExpiredUploadsAsync();

        Assert.True(removed == 1, $"The engine's sweep removed {removed} uploads; the store holds one expired upload.");
        Assert.Null(await Store.GetAsync(upload.Segments[^1], Ct));
        using var gone = await HeadAsync(upload);
        await AssertStatusAsync(gone, HttpStatusCode.NotFound, "HEAD of a swept upload");
    }

    /// <summary>A complete upload never expires: past any expiry, the sweep leaves it (removing only the unfinished one)
    /// and it still downloads.</summary>
    [Fact]
    public virtual async Task Expiration_CompleteUpload_IsNeverSwept()
    {
        SkipUnlessExpirationIsServed();
        var data = Pattern.Bytes(107, 0, 500);
        var complete = await CreateUploadAsync(data.Length);
        using (var patch = await PatchAsync(complete, 0, data))
        {
            await AssertStatusAsync(patch, HttpStatusCode.NoContent, "PATCH completing the upload");
        }

        var unfinished = await CreateUploadAsync(500);

        AdvanceClock(UploadLifetime * 3);
        var removed = await RemoveExpiredUploadsAsync();

        Assert.True(removed == 1, $"The engine's sweep removed {removed} uploads; the store holds one expired unfinished upload and one complete upload.");
        using (var head = await HeadAsync(unfinished))
        {
            await AssertStatusAsync(head, HttpStatusCode.NotFound, "HEAD of the swept unfinished upload");
        }

        await AssertUploadIsAsync(complete, data);
    }

    /// <summary>An upload created with Upload-Defer-Length gets its length from a later PATCH and completes at it.</summary>
    [Fact]
    public virtual async Task DeferredLength_LengthSentWithALaterPatch_CompletesTheUpload()
    {
        Assert.SkipWhen(Store.DeferredLength is null, "The store does not offer deferred lengths (ITusStore.DeferredLength is null).");
        var data = Pattern.Bytes(108, 0, 500);
        var upload = await CreateUploadAsync(null);
        using (var head = await HeadAsync(upload))
        {
            Assert.Equal("1", HeaderValue(head, "Upload-Defer-Length"));
            Assert.Null(HeaderValue(head, "Upload-Length"));
        }

        using (var first = await PatchAsync(upload, 0, data.AsMemory(0, 300).ToArray()))
        {
            await AssertStatusAsync(first, HttpStatusCode.NoContent, "PATCH without a length");
        }

        using (var last = await PatchAsync(upload, 300, data.AsMemory(300).ToArray(), r => r.Headers.Add("Upload-Length", "500")))
        {
            await AssertStatusAsync(last, HttpStatusCode.NoContent, "PATCH declaring the length");
            Assert.Equal("500", HeaderValue(last, "Upload-Offset"));
        }

        using (var described = await HeadAsync(upload))
        {
            Assert.Equal("500", HeaderValue(described, "Upload-Length"));
            Assert.Null(HeaderValue(described, "Upload-Defer-Length"));
        }

        await AssertUploadIsAsync(upload, data);
    }

    /// <summary>Moves the engine's clock on.</summary>
    /// <param name="by">How far.</param>
    protected void AdvanceClock(TimeSpan by) => (_clock ?? throw NotRunning()).Advance(by);

    /// <summary>Runs the engine's expiration sweep now (<see cref="TusEngine.RemoveExpiredUploadsAsync"/>).</summary>
    /// <returns>How many uploads it removed.</returns>
    protected async Task<int> RemoveExpiredUploadsAsync() => await Engine.RemoveExpiredUploadsAsync(Ct);

    /// <summary>A request with <c>Tus-Resumable: 1.0.0</c>.</summary>
    /// <param name="method">The method.</param>
    /// <param name="uri">The URL.</param>
    /// <param name="content">The body, if any.</param>
    /// <returns>The request; the caller disposes it.</returns>
    protected static HttpRequestMessage TusRequest(HttpMethod method, Uri uri, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Add(TusHeaders.TusResumable, TusHeaders.ProtocolVersion);
        return request;
    }

    /// <summary>A body of type <c>application/offset+octet-stream</c>.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The content.</returns>
    protected static HttpContent OctetStream(byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue(TusHeaders.OffsetOctetStream);
        return content;
    }

    /// <summary>Creates an upload by POST, checking the 201 answer.</summary>
    /// <param name="length">The length, or <see langword="null"/> for <c>Upload-Defer-Length: 1</c> (or, with a final
    /// <paramref name="concat"/>, no length header at all).</param>
    /// <param name="metadata">The metadata, if any.</param>
    /// <param name="concat">The <c>Upload-Concat</c> value, if any.</param>
    /// <returns>The upload's URL.</returns>
    protected async Task<Uri> CreateUploadAsync(long? length, UploadMetadata? metadata = null, string? concat = null)
    {
        using var request = TusRequest(HttpMethod.Post, Endpoint);
        if (length is { } known)
        {
            request.Headers.Add(TusHeaders.UploadLength, known.ToString(CultureInfo.InvariantCulture));
        }
        else if (concat is null || !concat.StartsWith("final", StringComparison.Ordinal))
        {
            request.Headers.Add(TusHeaders.UploadDeferLength, "1");
        }

        if (metadata is { Count: > 0 })
        {
            request.Headers.Add(TusHeaders.UploadMetadata, metadata.ToString());
        }

        if (concat is not null)
        {
            request.Headers.Add(TusHeaders.UploadConcat, concat);
        }

        using var response = await Client.SendAsync(request, Ct);
        await AssertStatusAsync(response, HttpStatusCode.Created, "POST creating an upload");
        return LocationOf(response);
    }

    /// <summary>Sends a PATCH of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    /// <param name="upload">The upload's URL.</param>
    /// <param name="offset">The <c>Upload-Offset</c>.</param>
    /// <param name="data">The body.</param>
    /// <param name="configure">Adds further headers.</param>
    /// <returns>The response; the caller disposes it.</returns>
    protected async Task<HttpResponseMessage> PatchAsync(Uri upload, long offset, byte[] data, Action<HttpRequestMessage>? configure = null)
    {
        using var request = TusRequest(HttpMethod.Patch, upload, OctetStream(data));
        request.Headers.Add(TusHeaders.UploadOffset, offset.ToString(CultureInfo.InvariantCulture));
        configure?.Invoke(request);
        return await Client.SendAsync(request, Ct);
    }

    /// <summary>Sends a HEAD request.</summary>
    /// <param name="upload">The upload's URL.</param>
    /// <returns>The response; the caller disposes it.</returns>
    protected Task<HttpResponseMessage> HeadAsync(Uri upload) => SendAsync(HttpMethod.Head, upload);

    /// <summary>Sends a GET request, with a <c>Range</c> header when <paramref name="range"/> is given.</summary>
    /// <param name="upload">The upload's URL.</param>
    /// <param name="range">The Range header value, e.g. <c>bytes=0-99</c>.</param>
    /// <returns>The response; the caller disposes it.</returns>
    protected async Task<HttpResponseMessage> DownloadAsync(Uri upload, string? range)
    {
        using var request = TusRequest(HttpMethod.Get, upload);
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }

        return await Client.SendAsync(request, Ct);
    }

    /// <summary>Checks that HEAD reports the upload complete at the data's length and that GET returns the data.</summary>
    /// <param name="upload">The upload's URL.</param>
    /// <param name="data">Every byte the upload must hold.</param>
    protected async Task AssertUploadIsAsync(Uri upload, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var length = data.Length.ToString(CultureInfo.InvariantCulture);
        using (var head = await HeadAsync(upload))
        {
            await AssertStatusAsync(head, HttpStatusCode.OK, "HEAD of the finished upload");
            Assert.True(HeaderValue(head, "Upload-Offset") == length, $"HEAD reports offset {HeaderValue(head, "Upload-Offset")} for an upload that must hold {length} bytes.");
            Assert.True(HeaderValue(head, "Upload-Length") == length, $"HEAD reports length {HeaderValue(head, "Upload-Length")} for an upload that must hold {length} bytes.");
        }

        using var get = await DownloadAsync(upload, null);
        await AssertStatusAsync(get, HttpStatusCode.OK, "GET of the finished upload");
        var body = await get.Content.ReadAsByteArrayAsync(Ct);
        Assert.True(body.Length == data.Length, $"GET returned {body.Length} bytes of an upload that must hold {data.Length}.");
        var mismatch = body.AsSpan().CommonPrefixLength(data);
        Assert.True(mismatch == data.Length, $"GET returned a wrong byte at position {mismatch}.");
    }

    /// <summary>Checks a response's status, showing the error body (its stable error code) and the warnings and errors
    /// the engine logged (with the store's exceptions) when it differs.</summary>
    /// <param name="response">The response.</param>
    /// <param name="expected">The status expected.</param>
    /// <param name="what">Which request it answers, for the message.</param>
    protected async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync(Ct);
            var logged = _log?.Entries ?? [];
            var log = logged.Count == 0 ? string.Empty : $"{Environment.NewLine}The engine logged:{Environment.NewLine}{string.Join(Environment.NewLine, logged)}";
            Assert.Fail($"{what} was answered {(int)response.StatusCode} instead of {(int)expected}: {body.Trim()}{log}");
        }
    }

    /// <summary>A response header's value (response or content headers), or <see langword="null"/>.</summary>
    /// <param name="response">The response.</param>
    /// <param name="name">The header name.</param>
    /// <returns>The value, the values of a repeated header joined by commas.</returns>
    protected static string? HeaderValue(HttpResponseMessage response, string name)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
        {
            return string.Join(",", values);
        }

        return null;
    }

    private void SkipUnlessExpirationIsServed()
    {
        Assert.SkipWhen(Store.Expiration is null, "The store does not offer expiration (ITusStore.Expiration is null).");
        Assert.SkipWhen(Store.Listing is null, "The store offers expiration without listing (ITusStore.Listing is null), so the engine does not serve expiration; ExpirationConformanceTests fails for it.");
    }

    private async Task<Uri> CreatePartialAsync(byte[] data)
    {
        var upload = await CreateUploadAsync(data.Length, concat: "partial");
        using var patch = await PatchAsync(upload, 0, data);
        await AssertStatusAsync(patch, HttpStatusCode.NoContent, "PATCH of a partial upload");
        return upload;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri upload)
    {
        using var request = TusRequest(method, upload);
        return await Client.SendAsync(request, Ct);
    }

    private Uri LocationOf(HttpResponseMessage response)
    {
        var location = response.Headers.Location;
        Assert.True(location is not null, "The creation was answered without a Location header.");
        return location.IsAbsoluteUri ? location : new Uri(Endpoint, location);
    }

    private static string HttpDate(DateTimeOffset time) => time.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);

    private static InvalidOperationException NotRunning() => new("The engine exists only while a test runs: InitializeAsync creates it.");
}
