using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Tus.Conformance.Internal;
using Tus.Conformance.Tests.Reference;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Conformance.Tests;

/// <summary>
/// The engine's expiration sweep over a store that fails: a removal that throws, a listing that throws midway or at
/// once. Each failure is logged at warning and counted, the other uploads are still removed, and the next sweep goes on.
/// </summary>
public sealed class SweeperTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2033, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly ReferenceStore _inner = new(StoreDefect.None);
    private readonly FailingStore _store;
    private readonly ListLogger _log = new();
    private readonly TusEngine _engine;

    public SweeperTests()
    {
        _store = new FailingStore(_inner);
        var options = new TusOptions { Expiration = TimeSpan.FromHours(1), ExpirationSweepInterval = TimeSpan.FromDays(20) };
        _engine = new TusEngine(_store, new InProcessLocker(), options, new ManualClock(Now), _log);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RemoveExpiredUploadsAsync_OneRemovalThrows_RemovesTheOthersLogsAndCountsTheFailure()
    {
        var ids = await CreateExpiredAsync(3);
        _store.FailRemovalOf = ids[1];

        var removed = await _engine.RemoveExpiredUploadsAsync(Ct);

        removed.Should().Be(2, "the uploads around the one whose removal failed are still removed");
        (await _inner.GetAsync(ids[1], Ct)).Should().NotBeNull();
        _log.Warnings.Should().Contain(w => w.Contains(ids[1], StringComparison.Ordinal) && w.Contains("removal failed on purpose", StringComparison.Ordinal));
        _log.Warnings.Should().Contain(w => w.Contains("1 could not be removed", StringComparison.Ordinal), "the sweep logs its count of failures");

        _store.FailRemovalOf = null;
        (await _engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(1, "the next sweep removes the upload that failed before");
        (await _inner.GetAsync(ids[1], Ct)).Should().BeNull();
    }

    [Fact]
    public async Task RemoveExpiredUploadsAsync_ListingThrowsMidway_KeepsWhatItRemovedAndTheNextSweepGoesOn()
    {
        await CreateExpiredAsync(4);
        _store.FailListingAfter = 1;

        var removed = await _engine.RemoveExpiredUploadsAsync(Ct);

        removed.Should().Be(1);
        _log.Warnings.Should().Contain(w => w.Contains("Listing uploads for the expiration sweep failed", StringComparison.Ordinal) && w.Contains("listing failed on purpose", StringComparison.Ordinal));
        _log.Warnings.Should().Contain(w => w.Contains("listing failed: True", StringComparison.Ordinal));

        (await _engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(1, "every sweep goes on, even though the listing keeps failing");
        _store.FailListingAfter = null;
        (await _engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(2, "a sweep over a listing that works again removes the rest");
    }

    [Fact]
    public async Task RemoveExpiredUploadsAsync_ListingThrowsAtOnce_ReturnsZeroLogsAndTheNextSweepGoesOn()
    {
        await CreateExpiredAsync(2);
        _store.FailListingAtOnce = true;

        (await _engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(0);
        (await _engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(0);

        _log.Warnings.Count(w => w.Contains("listing failed on purpose", StringComparison.Ordinal)).Should().Be(2, "each sweep logs its failure");
        _store.FailListingAtOnce = false;
        (await _engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(2);
    }

    [Fact]
    public async Task RemoveExpiredUploadsAsync_DeletedUploadLeftInTheListing_IsSkippedAndTheRestRemoved()
    {
        // The defect store keeps a deleted upload in its index of expiring uploads: listed, and throwing on removal.
        using var broken = new ReferenceStore(StoreDefect.DeleteLeavesExpiryIndexEntry);
        var log = new ListLogger();
        using var engine = new TusEngine(broken, new InProcessLocker(), new TusOptions { Expiration = TimeSpan.FromHours(1) }, new ManualClock(Now), log);
        var deleted = await broken.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 10, CreatedAt = Now.AddDays(-1), ExpiresAt = Now.AddHours(-1) }, Ct);
        await broken.Termination!.DeleteAsync(deleted.Id, Ct);
        var expired = await broken.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 10, CreatedAt = Now.AddDays(-1), ExpiresAt = Now.AddHours(-1) }, Ct);

        (await engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(1);
        (await engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(0);

        (await broken.GetAsync(expired.Id, Ct)).Should().BeNull();
        log.Warnings.Should().NotContain(w => w.Contains("could not be removed", StringComparison.Ordinal), "the engine looks the upload up under its lock first and skips one that is gone");
    }

    public void Dispose()
    {
        _engine.Dispose();
        _inner.Dispose();
    }

    private async Task<string[]> CreateExpiredAsync(int count)
    {
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            var upload = await _inner.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 10, CreatedAt = Now.AddDays(-1), ExpiresAt = Now.AddMinutes(-i - 1) }, Ct);
            ids[i] = upload.Id;
        }

        return ids;
    }

    /// <summary>Forwards to a store, failing on request: one upload's removal, the listing after some uploads, or the
    /// listing at once.</summary>
    private sealed class FailingStore(ITusStore inner) : ITusStore, ITusExpirationStore, ITusListingStore
    {
        public string? FailRemovalOf { get; set; }

        public int? FailListingAfter { get; set; }

        public bool FailListingAtOnce { get; set; }

        public ITusTerminationStore? Termination => inner.Termination;

        public ITusConcatenationStore? Concatenation => null;

        public ITusDeferredLengthStore? DeferredLength => null;

        public ITusExpirationStore? Expiration => this;

        public ITusChecksumStore? Checksum => null;

        public ITusListingStore? Listing => this;

        public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken) => inner.CreateAsync(upload, cancellationToken);

        public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) => inner.GetAsync(uploadId, cancellationToken);

        public ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken) => inner.AppendAsync(upload, data, cancellationToken);

        public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken) =>
            inner.OpenReadAsync(upload, offset, length, cancellationToken);

        public ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
            inner.Expiration!.SetExpiryAsync(upload, expiresAt, cancellationToken);

        public ValueTask RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken) =>
            uploadId == FailRemovalOf ? throw new IOException($"The removal failed on purpose for '{uploadId}'.") : inner.Expiration!.RemoveExpiredAsync(uploadId, cancellationToken);

        public IAsyncEnumerable<UploadInfo> ListAsync(CancellationToken cancellationToken) =>
            FailListingAtOnce ? throw new IOException("The listing failed on purpose, at once.") : ListCoreAsync(cancellationToken);

        private async IAsyncEnumerable<UploadInfo> ListCoreAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var given = 0;
            await foreach (var upload in inner.Listing!.ListAsync(cancellationToken))
            {
                if (given++ == FailListingAfter)
                {
                    throw new IOException("The listing failed on purpose, midway.");
                }

                yield return upload;
            }
        }
    }

    private sealed class ListLogger : ILogger<TusEngine>
    {
        private readonly ConcurrentQueue<string> _warnings = new();

        public IReadOnlyList<string> Warnings => [.. _warnings];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                _warnings.Enqueue($"{formatter(state, exception)} {exception?.Message}");
            }
        }
    }
}
