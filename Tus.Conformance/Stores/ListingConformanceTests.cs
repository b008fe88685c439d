using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The listing capability (<see cref="ITusListingStore"/>): every upload the store holds is listed exactly once, as
/// <see cref="ITusStore.GetAsync"/> describes it; removed uploads are not listed; a listing that runs while uploads are
/// created and removed never fails and lists every upload that existed throughout exactly once; cancellation ends it;
/// and hundreds of uploads stream through. Subclass it when the store's <see cref="ITusStore.Listing"/> is not
/// <see langword="null"/> (a store that offers expiration must offer listing too: the engine's sweep lists through it).
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class ListingConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>How many uploads <see cref="ListAsync_ManyUploads_ListsEachExactlyOnce"/> creates: 500.</summary>
    public const int ManyUploads = 500;

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected ListingConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The capability under test; fails the test when the store does not declare it.</summary>
    protected ITusListingStore Listing => RequireCapability(Store.Listing, nameof(ITusStore.Listing));

    /// <summary>A new store lists nothing.</summary>
    [Fact]
    public virtual async Task ListAsync_EmptyStore_ListsNothing()
    {
        var listed = await ListAllAsync();

        Assert.True(listed.Count == 0, $"An empty store listed {listed.Count} uploads: {string.Join(", ", listed.Keys)}.");
    }

    /// <summary>
    /// Every upload is listed exactly once with the info GetAsync gives: length, offset, metadata byte for byte, creation
    /// time, expiry, and role in a concatenation; uploads that are empty, partly written, complete, of deferred length,
    /// partial and final alike, whichever capabilities the store declares.
    /// </summary>
    [Fact]
    public virtual async Task ListAsync_CreatedUploads_ListsEachOnceAsGetAsyncDescribesIt()
    {
        _ = Listing;
        var metadata = UploadMetadata.Create([new("filename", "Überweisung.pdf"u8.ToArray()), new("raw", new byte[] { 0, 0xFF, 0xC3, 0x28 }), new("empty", ReadOnlyMemory<byte>.Empty)]);
        var expiresAt = Store.Expiration is null ? (DateTimeOffset?)null : CreatedAt.AddDays(2);
        var ids = new List<string>
        {
            (await CreateUploadAsync(100)).Id,
            (await Store.CreateAsync(NewUpload(1000) with { Metadata = metadata, ExpiresAt = expiresAt }, Ct)).Id,
            (await AppendPatternAsync(await CreateUploadAsync(5000), seed: 120, 1234)).Id,
            (await AppendPatternAsync(await CreateUploadAsync(70_000), seed: 121, 70_000)).Id,
            (await CreateUploadAsync(0)).Id,
        };
        if (Store.DeferredLength is not null)
        {
            ids.Add((await AppendPatternAsync(await CreateUploadAsync(null), seed: 122, 10)).Id);
        }

        if (Store.Concatenation is not null)
        {
            var partial = await AppendPatternAsync(await Store.CreateAsync(NewUpload(20) with { Concatenation = UploadConcatenation.Partial }, Ct), seed: 123, 20);
            var final = await Store.CreateAsync(NewUpload(null) with { Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);
            ids.Add(partial.Id);
            ids.Add(final.Id);
        }

        // Created last, so a listing that loses the end of its last page misses it.
        ids.Add((await AppendPatternAsync(await CreateUploadAsync(300), seed: 124, 299)).Id);

        var listed = await ListAllAsync();

        foreach (var id in ids)
        {
            Assert.True(listed.TryGetValue(id, out var upload), $"Upload '{id}' (number {ids.IndexOf(id) + 1} of {ids.Count} created) is not listed.");
            AssertDescribedAlike(await GetExistingAsync(id), upload);
        }

        Assert.True(listed.Count == ids.Count, $"The store holds {ids.Count} uploads but listed {listed.Count}.");
    }

    /// <summary>A deleted upload is no longer listed; the others still are.</summary>
    [Fact]
    public virtual async Task ListAsync_DeletedUpload_IsNotListed()
    {
        _ = Listing;
        Assert.SkipWhen(Store.Termination is null, "The store does not offer termination (ITusStore.Termination is null).");
        var kept = await CreateUploadAsync(10);
        var deleted = await AppendPatternAsync(await CreateUploadAsync(10), seed: 125, 5);

        await Store.Termination.DeleteAsync(deleted.Id, Ct);
        var listed = await ListAllAsync();

        Assert.False(listed.ContainsKey(deleted.Id), $"The deleted upload '{deleted.Id}' is still listed.");
        Assert.True(listed.ContainsKey(kept.Id), "An upload that was not deleted is no longer listed.");
        Assert.Single(listed);
    }

    /// <summary>An upload removed as expired is no longer listed; the others still are.</summary>
    [Fact]
    public virtual async Task ListAsync_ExpiredUploadRemoved_IsNotListed()
    {
        _ = Listing;
        Assert.SkipWhen(Store.Expiration is null, "The store does not offer expiration (ITusStore.Expiration is null).");
        var kept = await Store.CreateAsync(NewUpload(10) with { ExpiresAt = CreatedAt.AddDays(1) }, Ct);
        var removed = await Store.CreateAsync(NewUpload(10) with { ExpiresAt = CreatedAt.AddHours(1) }, Ct);

        await Store.Expiration.RemoveExpiredAsync(removed.Id, Ct);
        var listed = await ListAllAsync();

        Assert.False(listed.ContainsKey(removed.Id), $"The upload '{removed.Id}' removed as expired is still listed.");
        Assert.True(listed.ContainsKey(kept.Id), "An upload that was not removed is no longer listed.");
        Assert.Single(listed);
    }

    /// <summary>
    /// A listing that runs while uploads are created and removed never fails: once it has begun, uploads it may not have
    /// reached yet are removed (and others created, and a background task keeps creating and removing more), yet every
    /// upload that existed throughout is listed exactly once, nothing is listed twice, and nothing is listed that never
    /// existed. An upload that disappears between being found and being read is skipped, not an error.
    /// </summary>
    [Fact]
    public virtual async Task ListAsync_WhileUploadsAreCreatedAndRemoved_ListsEveryLastingUploadOnce()
    {
        _ = Listing;
        var lasting = new HashSet<string>(StringComparer.Ordinal);
        var transient = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 60; i++)
        {
            lasting.Add((await CreateUploadAsync(100 + i)).Id);
            transient.Add((await CreateUploadAsync(100 + i)).Id);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var churned = new System.Collections.Concurrent.ConcurrentBag<string>();
        var churn = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var upload = await Store.CreateAsync(NewUpload(7), Ct);
                churned.Add(upload.Id);
                await Task.Yield();
                await RemoveAsync(upload.Id);
            }
        }, CancellationToken.None);

        var listed = new Dictionary<string, UploadInfo>(StringComparer.Ordinal);
        Exception? failure = null;
        try
        {
            await foreach (var upload in Listing.ListAsync(Ct))
            {
                Assert.True(listed.TryAdd(upload.Id, upload), $"ListAsync listed upload '{upload.Id}' twice.");
                if (listed.Count == 1)
                {
                    // Once the listing has begun, the uploads it may not have reached yet go, and new ones come.
                    foreach (var id in transient)
                    {
                        await RemoveAsync(id);
                    }

                    for (var i = 0; i < 20; i++)
                    {
                        transient.Add((await CreateUploadAsync(3)).Id);
                    }
                }
            }
        }
        catch (Exception exception) when (exception is not Xunit.Sdk.XunitException)
        {
            failure = exception;
        }
        finally
        {
            await stop.CancelAsync();
            await churn;
        }

        Assert.True(failure is null, $"ListAsync failed while uploads were created and removed: {failure?.GetType().Name}: {failure?.Message}");
        var missing = lasting.Where(id => !listed.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {lasting.Count} uploads that existed throughout the listing were not listed, e.g. '{missing.FirstOrDefault()}'.");
        var unknown = listed.Keys.Where(id => !lasting.Contains(id) && !transient.Contains(id) && !churned.Contains(id)).ToList();
        Assert.True(unknown.Count == 0, $"ListAsync listed {unknown.Count} uploads that were never created, e.g. '{unknown.FirstOrDefault()}'.");
    }

    /// <summary>A listing whose token has fired throws <see cref="OperationCanceledException"/>.</summary>
    [Fact]
    public virtual async Task ListAsync_TokenAlreadyCancelled_Throws()
    {
        _ = Listing;
        await CreateUploadAsync(1);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var exception = await Record.ExceptionAsync(async () =>
        {
            await foreach (var upload in Listing.ListAsync(cancelled.Token))
            {
                _ = upload;
            }
        });

        Assert.True(exception is OperationCanceledException, $"A listing with a cancelled token ended with {exception?.GetType().Name ?? "every upload listed"} instead of an OperationCanceledException.");
    }

    /// <summary>A listing whose token fires midway throws <see cref="OperationCanceledException"/> instead of running
    /// to its end.</summary>
    [Fact]
    public virtual async Task ListAsync_CancelledMidway_ThrowsBeforeItsEnd()
    {
        _ = Listing;
        const int count = 300;
        for (var i = 0; i < count; i++)
        {
            await CreateUploadAsync(i);
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var seen = 0;
        var exception = await Record.ExceptionAsync(async () =>
        {
            await foreach (var upload in Listing.ListAsync(cancel.Token))
            {
                _ = upload;
                if (++seen == 5)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.True(exception is OperationCanceledException, $"A listing cancelled after 5 of {count} uploads ended with {exception?.GetType().Name ?? $"all {seen} uploads listed"} instead of an OperationCanceledException.");
    }

    /// <summary>
    /// <see cref="ManyUploads"/> uploads are each listed exactly once, with their offsets; and a listing abandoned after
    /// its first upload ends cleanly.
    /// </summary>
    [Fact]
    public virtual async Task ListAsync_ManyUploads_ListsEachExactlyOnce()
    {
        _ = Listing;
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < ManyUploads; i++)
        {
            var upload = await CreateUploadAsync(1000);
            if (i % 7 == 0)
            {
                upload = await AppendPatternAsync(upload, seed: 126, i % 100);
            }

            offsets.Add(upload.Id, upload.Offset);
        }

        await using (var enumerator = Listing.ListAsync(Ct).GetAsyncEnumerator(Ct))
        {
            Assert.True(await enumerator.MoveNextAsync(), "ListAsync listed nothing in a store that holds uploads.");
        }

        var listed = await ListAllAsync();

        var missing = offsets.Keys.Where(id => !listed.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {ManyUploads} uploads were not listed, e.g. '{missing.FirstOrDefault()}'.");
        Assert.True(listed.Count == ManyUploads, $"The store holds {ManyUploads} uploads but listed {listed.Count}.");
        foreach (var (id, offset) in offsets)
        {
            Assert.True(listed[id].Offset == offset, $"The listing describes upload '{id}' with offset {listed[id].Offset} instead of {offset}.");
        }
    }

    /// <summary>Lists every upload, by id, failing on an id listed twice.</summary>
    /// <returns>Each listed upload by its id.</returns>
    protected async Task<Dictionary<string, UploadInfo>> ListAllAsync()
    {
        var listed = new Dictionary<string, UploadInfo>(StringComparer.Ordinal);
        await foreach (var upload in Listing.ListAsync(Ct))
        {
            Assert.True(upload is not null, "ListAsync listed null.");
            Assert.True(listed.TryAdd(upload.Id, upload), $"ListAsync listed upload '{upload.Id}' twice.");
        }

        return listed;
    }

    /// <summary>Checks that the listing describes an upload as GetAsync does.</summary>
    /// <param name="expected">What GetAsync returned.</param>
    /// <param name="listed">What the listing returned.</param>
    protected static void AssertDescribedAlike(UploadInfo expected, UploadInfo listed)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(listed);
        var what = $"The listing of upload '{expected.Id}'";
        Assert.True(listed.Offset == expected.Offset, $"{what} gives offset {listed.Offset}; GetAsync gives {expected.Offset}.");
        Assert.True(listed.Length == expected.Length, $"{what} gives length {listed.Length?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "deferred"}; GetAsync gives {expected.Length?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "deferred"}.");
        Assert.True(listed.CreatedAt == expected.CreatedAt, $"{what} gives the creation time {listed.CreatedAt:O}; GetAsync gives {expected.CreatedAt:O}.");
        Assert.True(listed.ExpiresAt == expected.ExpiresAt, $"{what} gives the expiry {FormatTime(listed.ExpiresAt)}; GetAsync gives {FormatTime(expected.ExpiresAt)}.");
        Assert.True(Equals(listed.Concatenation, expected.Concatenation), $"{what} gives a different concatenation role than GetAsync.");
        AssertMetadataEqual(expected.Metadata, listed.Metadata, "ListAsync");
    }

    private async Task RemoveAsync(string uploadId)
    {
        if (Store.Termination is { } termination)
        {
            await termination.DeleteAsync(uploadId, Ct);
        }
        else if (Store.Expiration is { } expiration)
        {
            await expiration.RemoveExpiredAsync(uploadId, Ct);
        }
    }
}
