using Tus.Protocol;
using Tus.Lockers.Memory;

namespace Tus.Stores.Limited.Tests;

public sealed class LimitedStoreTests : QuotaTestBase
{
    [Fact]
    public async Task CreateAsync_HundredParallelCreationsRacingForTheLastBytes_NeverOvershoot()
    {
        const long quota = 10_000;
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = quota });
        await store.CreateAsync(New(9_300), Ct);
        var sizes = Enumerable.Range(0, 100).Select(i => 1L + (i * 37 % 100)).ToArray();
        using var start = new ManualResetEventSlim();

        var attempts = sizes.Select(size => Task.Run(async () =>
        {
            start.Wait(Ct);
            try
            {
                await store.CreateAsync(New(size), Ct);
                return (size, created: true);
            }
            catch (QuotaExceededException)
            {
                return (size, created: false);
            }
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(attempts);

        var createdBytes = results.Where(r => r.created).Sum(r => r.size);
        createdBytes.Should().BeLessThanOrEqualTo(700, "the creations must never take more than the 700 bytes left");
        var listed = await ListAsync(store);
        listed.Sum(u => u.Length!.Value).Should().Be(9_300 + createdBytes).And.BeLessThanOrEqualTo(quota);
        listed.Should().HaveCount(1 + results.Count(r => r.created));
        store.GetUsage().UsedBytes.Should().Be(9_300 + createdBytes);
        // Every refused creation really did not fit in what was left when the race was over.
        results.Where(r => !r.created).Should().OnlyContain(r => r.size > quota - 9_300 - createdBytes);
    }

    [Fact]
    public async Task CreateAsync_HundredParallelCreationsForTheLastSlots_NeverPassTheUnfinishedLimit()
    {
        var store = NewQuota(new QuotaOptions { MaxUnfinishedUploads = 10 });
        using var start = new ManualResetEventSlim();
        var attempts = Enumerable.Range(0, 100).Select(_ => Task.Run(async () =>
        {
            start.Wait(Ct);
            try
            {
                await store.CreateAsync(New(10), Ct);
                return true;
            }
            catch (QuotaExceededException)
            {
                return false;
            }
        })).ToArray();
        start.Set();

        (await Task.WhenAll(attempts)).Count(created => created).Should().Be(10);
        (await ListAsync(store)).Should().HaveCount(10);
        store.GetUsage().UnfinishedUploads.Should().Be(10);
    }

    [Fact]
    public async Task CreateAsync_AboveMaxUploadBytes_IsRefusedWithQuotaExceeded()
    {
        var store = NewQuota(new QuotaOptions { MaxUploadBytes = 100 });

        await store.CreateAsync(New(100), Ct);
        var refused = async () => await store.CreateAsync(New(101), Ct);

        (await refused.Should().ThrowAsync<QuotaExceededException>()).Which.Error.Should().Be(TusError.QuotaExceeded);
        TusError.QuotaExceeded.StatusCode.Should().Be(413);
        (await ListAsync(store)).Should().HaveCount(1);
    }

    [Fact]
    public async Task AppendAsync_DeferredLengthGrowingPastTheQuota_IsCutAtExactlyTheLimitAndKeepsWhatFits()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000 });
        await store.CreateAsync(New(600), Ct);
        var deferred = await store.CreateAsync(New(null), Ct);
        var body = Pattern(1_000);

        var append = async () => await store.AppendAsync(deferred, Body(body), Ct);

        await append.Should().ThrowAsync<QuotaExceededException>();
        var stored = (await store.GetAsync(deferred.Id, Ct))!;
        stored.Offset.Should().Be(400, "exactly the 400 bytes left fit");
        new FileInfo(Path.Combine(Directory, deferred.Id)).Length.Should().Be(400, "nothing may be written past the limit");
        (await ReadAllAsync(store, stored)).Should().Equal(body.Take(400));
        store.GetUsage().UsedBytes.Should().Be(1_000);

        // Full: one more byte is refused and nothing moves.
        var more = async () => await store.AppendAsync(stored, Body([42]), Ct);
        await more.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetAsync(deferred.Id, Ct))!.Offset.Should().Be(400);
        store.GetUsage().UsedBytes.Should().Be(1_000);
    }

    [Fact]
    public async Task AppendAsync_DeferredLengthFillingTheQuotaExactly_Succeeds()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000 });
        await store.CreateAsync(New(600), Ct);
        var deferred = await store.CreateAsync(New(null), Ct);

        var written = await store.AppendAsync(deferred, Body(Pattern(400)), Ct);

        written.Should().Be(400);
        store.GetUsage().UsedBytes.Should().Be(1_000);
    }

    [Fact]
    public async Task AppendAsync_DeferredLengthGrowingPastMaxUploadBytes_IsCutThere()
    {
        var store = NewQuota(new QuotaOptions { MaxUploadBytes = 300 });
        var deferred = await store.CreateAsync(New(null), Ct);

        var append = async () => await store.AppendAsync(deferred, Body(Pattern(1_000)), Ct);

        await append.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetAsync(deferred.Id, Ct))!.Offset.Should().Be(300);
    }

    [Fact]
    public async Task SetLengthAsync_DeclaringMoreThanFits_IsRefusedAndLeavesTheLengthDeferred()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000 });
        await store.CreateAsync(New(600), Ct);
        var deferred = await store.CreateAsync(New(null), Ct);
        deferred = deferred with { Offset = deferred.Offset + await store.AppendAsync(deferred, Body(Pattern(100)), Ct) };

        var tooLong = async () => await store.DeferredLength!.SetLengthAsync(deferred, 401, Ct);
        await tooLong.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetAsync(deferred.Id, Ct))!.Length.Should().BeNull();
        store.GetUsage().UsedBytes.Should().Be(700);

        var set = await store.DeferredLength!.SetLengthAsync(deferred, 400, Ct);
        set.Length.Should().Be(400);
        store.GetUsage().UsedBytes.Should().Be(1_000);
    }

    [Fact]
    public async Task DeleteAsync_Termination_ReleasesTheUploadsBytes()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000, MaxUnfinishedUploads = 1 });
        var first = await store.CreateAsync(New(800), Ct);
        var refused = async () => await store.CreateAsync(New(800), Ct);
        await refused.Should().ThrowAsync<QuotaExceededException>();

        await store.Termination!.DeleteAsync(first.Id, Ct);

        store.GetUsage().Should().Match<QuotaUsage>(u => u.UsedBytes == 0 && u.UnfinishedUploads == 0 && u.Uploads == 0);
        await store.CreateAsync(New(1_000), Ct);
    }

    [Fact]
    public async Task RemoveExpiredAsync_Expiry_ReleasesTheUploadsBytes()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000 });
        var expiring = await store.CreateAsync(New(900) with { ExpiresAt = Start.AddMinutes(1) }, Ct);
        await store.AppendAsync(expiring, Body(Pattern(50)), Ct);

        await store.Expiration!.RemoveExpiredAsync(expiring.Id, Ct);

        store.GetUsage().UsedBytes.Should().Be(0);
        await store.CreateAsync(New(1_000), Ct);
    }

    [Fact]
    public async Task ConcatenateAsync_FinalUpload_IsChargedItsCopyAndRefusedWhenItDoesNotFit()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 500 });
        var partials = new List<UploadInfo>();
        for (var i = 0; i < 2; i++)
        {
            var partial = await store.CreateAsync(New(100, UploadConcatenation.Partial), Ct);
            await store.AppendAsync(partial, Body(Pattern(100, seed: i)), Ct);
            partials.Add((await store.GetAsync(partial.Id, Ct))!);
        }

        // A final created before its length is known reserves at assembly time.
        var final = await store.CreateAsync(New(null, UploadConcatenation.Final([partials[0].Id, partials[1].Id])), Ct);
        store.GetUsage().UsedBytes.Should().Be(200);
        var completed = await store.Concatenation!.ConcatenateAsync(final, partials, Ct);
        completed.IsComplete.Should().BeTrue();
        store.GetUsage().UsedBytes.Should().Be(400, "the stores keep the partial uploads, so the final upload's bytes are a copy that takes room of its own");

        var second = await store.CreateAsync(New(null, UploadConcatenation.Final([partials[0].Id, partials[1].Id])), Ct);
        var refused = async () => await store.Concatenation!.ConcatenateAsync(second, partials, Ct);
        await refused.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetAsync(second.Id, Ct))!.Offset.Should().Be(0);
        store.GetUsage().UsedBytes.Should().Be(400);
    }

    [Fact]
    public async Task CountFinishedUploadsFalse_FinishingAnUpload_ReleasesItsBytes()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 100, CountFinishedUploads = false });
        var upload = await store.CreateAsync(New(100), Ct);
        var refused = async () => await store.CreateAsync(New(1), Ct);
        await refused.Should().ThrowAsync<QuotaExceededException>();

        await store.AppendAsync(upload, Body(Pattern(100)), Ct);

        store.GetUsage().UsedBytes.Should().Be(0);
        await store.CreateAsync(New(100), Ct);
    }

    [Fact]
    public async Task InitializeAsync_AfterRestart_RebuildsIdenticalAccounting()
    {
        var options = new QuotaOptions { MaxTotalBytes = 100_000, MaxUnfinishedUploads = 100 };
        var store = NewQuota(options);
        var unfinished = await store.CreateAsync(New(5_000), Ct);
        await store.AppendAsync(unfinished, Body(Pattern(1_234)), Ct);
        var finished = await store.CreateAsync(New(700), Ct);
        await store.AppendAsync(finished, Body(Pattern(700)), Ct);
        var deferred = await store.CreateAsync(New(null), Ct);
        await store.AppendAsync(deferred, Body(Pattern(3_333)), Ct);
        var terminated = await store.CreateAsync(New(9_000), Ct);
        await store.Termination!.DeleteAsync(terminated.Id, Ct);
        var partial = await store.CreateAsync(New(50, UploadConcatenation.Partial), Ct);
        await store.AppendAsync(partial, Body(Pattern(50)), Ct);
        var final = await store.CreateAsync(New(50, UploadConcatenation.Final([partial.Id])), Ct);
        await store.Concatenation!.ConcatenateAsync(final, [(await store.GetAsync(partial.Id, Ct))!], Ct);
        await store.CreateAsync(New(0), Ct);
        var before = store.GetUsage();
        await store.DisposeAsync();

        var restarted = NewQuota(options);
        await restarted.InitializeAsync(Ct);

        restarted.GetUsage().Should().Be(before);
        before.UsedBytes.Should().Be(5_000 + 700 + 3_333 + 50 + 50);
        before.UnfinishedUploads.Should().Be(2);
    }

    [Fact]
    public async Task CountFinishedUploadsFalse_AfterRestart_RebuildsIdenticalAccounting()
    {
        var options = new QuotaOptions { MaxTotalBytes = 100_000, CountFinishedUploads = false };
        var store = NewQuota(options);
        var finished = await store.CreateAsync(New(700), Ct);
        await store.AppendAsync(finished, Body(Pattern(700)), Ct);
        await store.CreateAsync(New(900), Ct);
        var before = store.GetUsage();

        var restarted = NewQuota(options);
        await restarted.InitializeAsync(Ct);

        restarted.GetUsage().Should().Be(before);
        before.UsedBytes.Should().Be(900);
    }

    [Fact]
    public async Task Reclaim_NeverTouchesFinishedOrInProgressUploads_AndTakesOnlyAbandonedOnesOldestFirst()
    {
        var locker = new MemoryLocker();
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000, ReclaimAfter = TimeSpan.FromHours(1) }, locker);
        var finished = await store.CreateAsync(New(250), Ct);
        await store.AppendAsync(finished, Body(Pattern(250)), Ct);
        var inProgress = await store.CreateAsync(New(250), Ct);
        await store.AppendAsync(inProgress, Body(Pattern(10)), Ct);
        var abandonedOldest = await store.CreateAsync(New(150), Ct);
        Clock.Advance(TimeSpan.FromMinutes(5));
        var abandonedLater = await store.CreateAsync(New(150), Ct);
        var rewritten = await store.CreateAsync(New(100), Ct);
        Clock.Advance(TimeSpan.FromMinutes(90));
        await store.AppendAsync(rewritten, Body(Pattern(10)), Ct);
        var fresh = await store.CreateAsync(New(100), Ct);
        Clock.Advance(TimeSpan.FromMinutes(10));
        store.GetUsage().UsedBytes.Should().Be(1_000);

        await using (await locker.AcquireAsync(inProgress.Id, Ct))
        {
            // Needs 150: the oldest abandoned upload goes, and nothing else.
            await store.CreateAsync(New(150), Ct);
            (await store.GetAsync(abandonedOldest.Id, Ct)).Should().BeNull();
            (await store.GetAsync(abandonedLater.Id, Ct)).Should().NotBeNull();

            // Needs 300: the later abandoned upload goes (150), then only the held, finished, fresh and recently written
            // ones are left, so the creation is refused rather than take any of them.
            var refused = async () => await store.CreateAsync(New(300), Ct);
            await refused.Should().ThrowAsync<QuotaExceededException>();
        }

        (await store.GetAsync(abandonedLater.Id, Ct)).Should().BeNull();
        var kept = await store.GetAsync(finished.Id, Ct);
        kept!.IsComplete.Should().BeTrue();
        (await ReadAllAsync(store, kept)).Should().Equal(Pattern(250));
        (await store.GetAsync(inProgress.Id, Ct))!.Offset.Should().Be(10);
        (await store.GetAsync(rewritten.Id, Ct))!.Offset.Should().Be(10);
        (await store.GetAsync(fresh.Id, Ct)).Should().NotBeNull();
        var usage = store.GetUsage();
        usage.ReclaimedUploads.Should().Be(2);
        usage.ReclaimedBytes.Should().Be(300);
        usage.UsedBytes.Should().Be(850);

        // Once nobody holds it, the in-progress upload is as abandoned as any other old unfinished upload.
        await store.CreateAsync(New(300), Ct);
        (await store.GetAsync(inProgress.Id, Ct)).Should().BeNull();
        (await store.GetAsync(finished.Id, Ct)).Should().NotBeNull();
    }

    [Fact]
    public async Task Reclaim_DeferredUploadGrowingIntoAFullQuota_ReclaimsAnAbandonedUploadAndGoesOn()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000, ReclaimAfter = TimeSpan.FromHours(1) }, new MemoryLocker());
        var abandoned = await store.CreateAsync(New(500), Ct);
        Clock.Advance(TimeSpan.FromHours(2));
        var deferred = await store.CreateAsync(New(null), Ct);
        var body = Pattern(800);

        var written = await store.AppendAsync(deferred, Body(body), Ct);

        written.Should().Be(800);
        (await store.GetAsync(abandoned.Id, Ct)).Should().BeNull();
        (await ReadAllAsync(store, (await store.GetAsync(deferred.Id, Ct))!)).Should().Equal(body);
        store.GetUsage().Should().Match<QuotaUsage>(u => u.UsedBytes == 800 && u.ReclaimedUploads == 1 && u.ReclaimedBytes == 500);
    }

    [Fact]
    public async Task DiscardFromAsync_DeferredUpload_ReleasesTheDiscardedBytes()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000 });
        var deferred = await store.CreateAsync(New(null), Ct);
        var written = await store.AppendAsync(deferred, Body(Pattern(700)), Ct);
        store.GetUsage().UsedBytes.Should().Be(700);

        await store.Checksum!.DiscardFromAsync(deferred with { Offset = written }, 200, Ct);

        store.GetUsage().UsedBytes.Should().Be(200);
        await store.CreateAsync(New(800), Ct);
    }

    [Fact]
    public async Task Reclaim_Unset_NeverDeletesAnything()
    {
        var store = NewQuota(new QuotaOptions { MaxTotalBytes = 100 });
        var old = await store.CreateAsync(New(100), Ct);
        Clock.Advance(TimeSpan.FromDays(365));

        var refused = async () => await store.CreateAsync(New(1), Ct);

        await refused.Should().ThrowAsync<QuotaExceededException>();
        (await store.GetAsync(old.Id, Ct)).Should().NotBeNull();
    }

    [Fact]
    public async Task Capabilities_AreExactlyThoseOfTheWrappedStore()
    {
        var full = NewQuota(new QuotaOptions { MaxTotalBytes = 1 });
        full.Termination.Should().BeSameAs(full);
        full.Concatenation.Should().BeSameAs(full);
        full.DeferredLength.Should().BeSameAs(full);
        full.Expiration.Should().BeSameAs(full);
        full.Checksum.Should().BeSameAs(full);
        full.Listing.Should().BeSameAs(full.InnerStore.Listing);

        var bare = new LimitedStore(new CoreOnlyStore(NewInner()), new QuotaOptions { MaxTotalBytes = 1 }, Clock);
        bare.Termination.Should().BeNull();
        bare.Concatenation.Should().BeNull();
        bare.DeferredLength.Should().BeNull();
        bare.Expiration.Should().BeNull();
        bare.Checksum.Should().BeNull();
        bare.Listing.Should().NotBeNull();
    }

    [Fact]
    public async Task InitializeAsync_StoreWithoutListing_FailsClearly()
    {
        var store = new LimitedStore(new CoreOnlyStore(NewInner(), listing: false), new QuotaOptions { MaxTotalBytes = 1 }, Clock);

        var initialize = async () => await store.InitializeAsync(Ct);

        (await initialize.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*cannot list its uploads*");
    }

    private static async Task<List<UploadInfo>> ListAsync(LimitedStore store)
    {
        var uploads = new List<UploadInfo>();
        await foreach (var upload in store.Listing!.ListAsync(Ct))
        {
            uploads.Add(upload);
        }

        return uploads;
    }

    /// <summary>A store with the core contract (and listing, if asked) only: no capability to forward.</summary>
    private sealed class CoreOnlyStore(ITusStore inner, bool listing = true) : ITusStore
    {
        public ITusTerminationStore? Termination => null;

        public ITusConcatenationStore? Concatenation => null;

        public ITusDeferredLengthStore? DeferredLength => null;

        public ITusExpirationStore? Expiration => null;

        public ITusChecksumStore? Checksum => null;

        public ITusListingStore? Listing => listing ? inner.Listing : null;

        public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken) => inner.CreateAsync(upload, cancellationToken);

        public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) => inner.GetAsync(uploadId, cancellationToken);

        public ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken) => inner.AppendAsync(upload, data, cancellationToken);

        public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken) => inner.OpenReadAsync(upload, offset, length, cancellationToken);
    }
}
