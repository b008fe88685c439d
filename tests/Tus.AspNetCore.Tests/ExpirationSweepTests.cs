using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tus.Locking;
using Tus.Stores;

namespace Tus.AspNetCore.Tests;

public sealed class ExpirationSweepTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sweep_WithExpiration_RemovesAnExpiredUnfinishedUpload()
    {
        await using var server = await TestServer.StartAsync(options: o =>
        {
            o.Expiration = TimeSpan.FromMilliseconds(500);
            o.ExpirationSweepInterval = TimeSpan.FromMilliseconds(100);
        });
        var expiring = await server.CreateUploadAsync(10);
        using (var patch = await server.PatchAsync(expiring, 0, TestServer.Bytes(new byte[4], 0, 4)))
        {
            patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        var id = TestServer.IdOf(expiring);
        File.Exists(Path.Combine(server.Directory, id)).Should().BeTrue();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (FilesOf(server, id).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
        }

        FilesOf(server, id).Should().BeEmpty("the sweep removes expired uploads without any request touching them");
        using var head = TestServer.Request(HttpMethod.Head, expiring);
        using var response = await server.Client.SendAsync(head, Ct);
        response.StatusCode.Should().BeOneOf(HttpStatusCode.NotFound, HttpStatusCode.Gone);
    }

    [Fact]
    public async Task Sweep_WhenTheStoreFails_KeepsTheHostRunningAndRetries()
    {
        FailingExpirationStore? store = null;
        await using var server = await TestServer.StartAsync(configureServices: (builder, directory) =>
        {
            builder.Services.AddTus(o =>
            {
                o.Expiration = TimeSpan.FromMinutes(5);
                o.ExpirationSweepInterval = TimeSpan.FromMilliseconds(50);
            }).AddMemoryLocker();
            builder.Services.AddSingleton<ITusStore>(sp => store = new FailingExpirationStore(
                new FileStore(new FileStoreOptions { Directory = directory }, TimeProvider.System)));
        });

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((store?.Failures ?? 0) < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        store!.Failures.Should().BeGreaterThanOrEqualTo(3, "a failed sweep is retried at the next interval");
        var upload = await server.CreateUploadAsync(3);
        (await server.GetOffsetAsync(upload)).Should().Be(0);
    }

    [Fact]
    public void Engine_WithoutExpiration_DoesNotAnnounceIt()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTus().AddFileStore(o => o.Directory = TestServer.NewDirectory()).AddMemoryLocker();
        using var provider = services.BuildServiceProvider();

        var engine = provider.GetRequiredService<TusEngine>();

        engine.Extensions.Should().NotContain("expiration");
        engine.Options.Should().BeSameAs(provider.GetRequiredService<IOptions<TusOptions>>().Value);
        Directory.Delete(provider.GetRequiredService<IOptions<FileStoreOptions>>().Value.Directory, recursive: true);
    }

    private static List<string> FilesOf(TestServer server, string id) =>
        Directory.EnumerateFiles(server.Directory).Where(f => Path.GetFileName(f).StartsWith(id, StringComparison.Ordinal)).ToList();

    /// <summary>Forwards everything to a file store, except that listing uploads always fails.</summary>
    private sealed class FailingExpirationStore(FileStore inner) : ITusStore, ITusExpirationStore, ITusListingStore
    {
        private int _failures;

        public int Failures => Volatile.Read(ref _failures);

        public ITusTerminationStore? Termination => inner.Termination;

        public ITusConcatenationStore? Concatenation => inner.Concatenation;

        public ITusDeferredLengthStore? DeferredLength => inner.DeferredLength;

        public ITusExpirationStore? Expiration => this;

        public ITusChecksumStore? Checksum => inner.Checksum;

        public ITusListingStore? Listing => this;

        public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken) => inner.CreateAsync(upload, cancellationToken);

        public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) => inner.GetAsync(uploadId, cancellationToken);

        public ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken) => inner.AppendAsync(upload, data, cancellationToken);

        public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken) =>
            inner.OpenReadAsync(upload, offset, length, cancellationToken);

        public ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
            inner.Expiration!.SetExpiryAsync(upload, expiresAt, cancellationToken);

        public async IAsyncEnumerable<UploadInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _failures);
            await Task.Yield();
            throw new IOException("the disk went away");
#pragma warning disable CS0162 // Unreachable code: the iterator needs a yield to be one.
            yield break;
#pragma warning restore CS0162
        }

        public ValueTask RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken) => inner.Expiration!.RemoveExpiredAsync(uploadId, cancellationToken);
    }
}
