using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The expiration capability (<see cref="ITusExpirationStore"/>): a store that offers it offers listing too (the engine's
/// sweep finds expired uploads through <see cref="ITusStore.Listing"/>), expiry times are stamped and moved and show
/// through both <see cref="ITusStore.GetAsync"/> and the listing, removing an expired upload makes it gone, and calls
/// for a removed upload throw <see cref="UploadNotFoundException"/>. Subclass it when the store's
/// <see cref="ITusStore.Expiration"/> is not <see langword="null"/>.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class ExpirationConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>The "now" the tests measure expiry against: a day after <see cref="StoreConformanceTestBase{TFixture}.CreatedAt"/>.</summary>
    protected static DateTimeOffset Now { get; } = CreatedAt.AddDays(1);

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected ExpirationConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The capability under test; fails the test when the store does not declare it.</summary>
    protected ITusExpirationStore Expiration => RequireCapability(Store.Expiration, nameof(ITusStore.Expiration));

    /// <summary>The listing the engine's sweep uses; fails the test, saying why, when the store does not offer it.</summary>
    protected ITusListingStore Listing
    {
        get
        {
            _ = Expiration;
            var listing = Store.Listing;
            if (listing is null)
            {
                Assert.Fail(
                    $"{Store.GetType().Name}.Expiration is not null but {Store.GetType().Name}.Listing is null. The engine's sweep finds expired uploads " +
                    "through the listing, so it serves expiration only when the store offers both: implement ITusListingStore (and run ListingConformanceTests), or declare no expiration.");
            }

            return listing;
        }
    }

    /// <summary>A store that offers expiration offers listing too, without which the engine does not serve expiration.</summary>
    [Fact]
    public virtual Task Listing_StoreWithExpiration_IsOffered()
    {
        Assert.NotNull(Listing);
        return Task.CompletedTask;
    }

    /// <summary>The expiry given at creation is kept, from CreateAsync, GetAsync and the listing.</summary>
    [Fact]
    public virtual async Task CreateAsync_WithExpiry_StampsIt()
    {
        _ = Expiration;
        var expiresAt = CreatedAt.AddHours(2);

        var created = await Store.CreateAsync(NewUpload(10) with { ExpiresAt = expiresAt }, Ct);
        var read = await GetExistingAsync(created.Id);
        var listed = await ListedAsync(created.Id);

        Assert.True(created.ExpiresAt == expiresAt, $"CreateAsync returned the expiry {FormatTime(created.ExpiresAt)} instead of {FormatTime(expiresAt)}.");
        Assert.True(read.ExpiresAt == expiresAt, $"GetAsync returned the expiry {FormatTime(read.ExpiresAt)} instead of {FormatTime(expiresAt)}.");
        Assert.True(listed.ExpiresAt == expiresAt, $"ListAsync gives the expiry {FormatTime(listed.ExpiresAt)} instead of {FormatTime(expiresAt)}.");
    }

    /// <summary>SetExpiryAsync moves the expiry (as a sliding expiration does on every write) and keeps the offset and
    /// data; GetAsync and the listing show the new expiry.</summary>
    [Fact]
    public virtual async Task SetExpiryAsync_NewTime_MovesTheExpiry()
    {
        var upload = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = CreatedAt.AddHours(1) }, Ct);
        upload = await AppendPatternAsync(upload, seed: 70, 40);
        var moved = CreatedAt.AddHours(5);

        var result = await Expiration.SetExpiryAsync(upload, moved, Ct);
        var read = await GetExistingAsync(upload.Id);
        var listed = await ListedAsync(upload.Id);

        foreach (var (described, what) in new[] { (result, "SetExpiryAsync"), (read, "GetAsync"), (listed, "ListAsync") })
        {
            Assert.True(described.ExpiresAt == moved, $"{what} returned the expiry {FormatTime(described.ExpiresAt)} instead of {FormatTime(moved)}.");
            Assert.True(described.Offset == 40, $"{what} returned offset {described.Offset} after SetExpiryAsync; the upload holds 40 bytes.");
        }

        await AssertDataIsPatternAsync(read, seed: 70, 40);
    }

    /// <summary>SetExpiryAsync with null removes the expiry, for GetAsync and the listing.</summary>
    [Fact]
    public virtual async Task SetExpiryAsync_Null_ClearsTheExpiry()
    {
        var upload = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = CreatedAt.AddHours(1) }, Ct);

        var result = await Expiration.SetExpiryAsync(upload, null, Ct);
        var read = await GetExistingAsync(upload.Id);
        var listed = await ListedAsync(upload.Id);

        Assert.Null(result.ExpiresAt);
        Assert.Null(read.ExpiresAt);
        Assert.True(listed.ExpiresAt is null, $"ListAsync gives the expiry {FormatTime(listed.ExpiresAt)} for an upload whose expiry was cleared.");
    }

    /// <summary>
    /// The listing shows every upload's expiry as GetAsync does, so that the sweep finds exactly the unfinished uploads
    /// whose expiry is at or before "now": past, exactly now, in the future, none, complete, and of deferred length.
    /// </summary>
    [Fact]
    public virtual async Task ListAsync_UploadsWithExpiries_ShowTheirExpiryAsGetAsyncDoes()
    {
        var past = await AppendPatternAsync(await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct), seed: 71, 30);
        var exactlyNow = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now }, Ct);
        var later = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddSeconds(1) }, Ct);
        var never = await Store.CreateAsync(NewUpload(100), Ct);
        var complete = await AppendPatternAsync(await Store.CreateAsync(NewUpload(50) with { ExpiresAt = Now.AddHours(-2) }, Ct), seed: 72, 50);
        var deferred = Store.DeferredLength is null ? null : await Store.CreateAsync(NewUpload(null) with { ExpiresAt = Now.AddDays(-3) }, Ct);
        var expected = new List<(UploadInfo Upload, bool Expired)> { (past, true), (exactlyNow, true), (later, false), (never, false), (complete, false) };
        if (deferred is not null)
        {
            expected.Add((deferred, true));
        }

        var listed = await ListAllAsync();

        Assert.Equal(expected.Count, listed.Count);
        foreach (var (upload, expired) in expected)
        {
            Assert.True(listed.TryGetValue(upload.Id, out var described), $"Upload '{upload.Id}' is not listed.");
            var read = await GetExistingAsync(upload.Id);
            Assert.True(described.ExpiresAt == read.ExpiresAt, $"ListAsync gives upload '{upload.Id}' the expiry {FormatTime(described.ExpiresAt)}; GetAsync gives {FormatTime(read.ExpiresAt)}.");
            Assert.True(described.Offset == read.Offset, $"ListAsync gives upload '{upload.Id}' offset {described.Offset}; GetAsync gives {read.Offset}.");
            Assert.True(described.IsExpiredAt(Now) == expired, $"Upload '{upload.Id}' (expiry {FormatTime(upload.ExpiresAt)}, offset {described.Offset} of {described.Length}) reads as {(expired ? "not " : string.Empty)}expired at {Now:O} from the listing.");
        }
    }

    /// <summary>The listing follows expiry times moved by SetExpiryAsync.</summary>
    [Fact]
    public virtual async Task ListAsync_AfterSetExpiry_FollowsTheNewExpiry()
    {
        var extended = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct);
        var shortened = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(1) }, Ct);

        await Expiration.SetExpiryAsync(extended, Now.AddHours(1), Ct);
        await Expiration.SetExpiryAsync(shortened, Now.AddHours(-1), Ct);
        var expired = (await ListAllAsync()).Values.Where(u => u.IsExpiredAt(Now)).Select(u => u.Id).ToList();

        Assert.Equal([shortened.Id], expired);
    }

    /// <summary>A removed upload is gone, from GetAsync and the listing; the other uploads stay.</summary>
    [Fact]
    public virtual async Task RemoveExpiredAsync_ExpiredUpload_MakesItGone()
    {
        var doomed = await AppendPatternAsync(await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct), seed: 73, 10);
        var alsoExpired = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct);
        var alive = await AppendPatternAsync(await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(1) }, Ct), seed: 74, 20);

        await Expiration.RemoveExpiredAsync(doomed.Id, Ct);

        Assert.Null(await Store.GetAsync(doomed.Id, Ct));
        var listed = await ListAllAsync();
        Assert.False(listed.ContainsKey(doomed.Id), "An upload removed as expired is still listed.");
        Assert.Equal(2, listed.Count);
        await GetExistingAsync(alsoExpired.Id);
        await AssertDataIsPatternAsync(await GetExistingAsync(alive.Id), seed: 74, 20);
    }

    /// <summary>Removing an upload that is gone already, or never existed, succeeds.</summary>
    [Fact]
    public virtual async Task RemoveExpiredAsync_GoneOrUnknownUpload_Succeeds()
    {
        var upload = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct);
        await Expiration.RemoveExpiredAsync(upload.Id, Ct);

        await Expiration.RemoveExpiredAsync(upload.Id, Ct);
        await Expiration.RemoveExpiredAsync(UploadId.New(), Ct);

        Assert.Null(await Store.GetAsync(upload.Id, Ct));
    }

    /// <summary>SetExpiryAsync and AppendAsync for an upload removed as expired throw <see cref="UploadNotFoundException"/>
    /// (given the upload as GetAsync returned it before the removal, state and all).</summary>
    [Fact]
    public virtual async Task SetExpiryAsync_RemovedUpload_ThrowsUploadNotFound()
    {
        var upload = await GetExistingAsync((await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct)).Id);
        await Expiration.RemoveExpiredAsync(upload.Id, Ct);

        await AssertThrowsUploadNotFoundAsync(upload.Id, "SetExpiryAsync", async () => await Expiration.SetExpiryAsync(upload, Now.AddDays(1), Ct));
        await AssertThrowsUploadNotFoundAsync(upload.Id, "AppendAsync", async () => await Store.AppendAsync(upload, new Internal.GeneratedStream(75, 0, 10), Ct));
    }

    /// <summary>
    /// An upload with an expiry that is deleted (termination) or removed is gone for every later step of a sweep: it is
    /// not listed, even once its expiry has passed, and removing it again succeeds; the uploads around it are listed and
    /// removed as usual. (A store that keeps an index of expiring uploads must clean it on deletion, or the engine's sweep
    /// trips over the leftover on every run.) Deletion needs termination: a store without it removes through expiration.
    /// </summary>
    [Fact]
    public virtual async Task DeleteAsync_UploadWithExpiry_IsNeitherListedNorSweptAgain()
    {
        _ = Listing;
        var expired = Now.AddHours(-1);
        var deleted = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = expired }, Ct);
        deleted = await AppendPatternAsync(deleted, seed: 76, 30);
        var removed = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = expired }, Ct);
        var neighbour = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = expired }, Ct);
        if (Store.Termination is { } termination)
        {
            await termination.DeleteAsync(deleted.Id, Ct);
        }
        else
        {
            await Expiration.RemoveExpiredAsync(deleted.Id, Ct);
        }

        await Expiration.RemoveExpiredAsync(removed.Id, Ct);

        // A sweep: list, and remove whatever is listed as expired.
        var listed = await ListAllAsync();
        Assert.False(listed.ContainsKey(deleted.Id), $"ListAsync lists upload '{deleted.Id}' after it was deleted (it had an expiry): the engine's sweep would try to remove it on every run.");
        Assert.False(listed.ContainsKey(removed.Id), $"ListAsync lists upload '{removed.Id}' after RemoveExpiredAsync removed it.");
        Assert.True(listed.ContainsKey(neighbour.Id), $"ListAsync does not list upload '{neighbour.Id}', which was never removed.");
        foreach (var upload in listed.Values.Where(u => u.IsExpiredAt(Now)))
        {
            var failure = await Record.ExceptionAsync(async () => await Expiration.RemoveExpiredAsync(upload.Id, Ct));
            Assert.True(failure is null, $"RemoveExpiredAsync(\"{upload.Id}\"), for an upload the listing gave as expired, threw {failure?.GetType().Name}: {failure?.Message}");
        }

        foreach (var id in new[] { deleted.Id, removed.Id })
        {
            var failure = await Record.ExceptionAsync(async () => await Expiration.RemoveExpiredAsync(id, Ct));
            Assert.True(failure is null, $"RemoveExpiredAsync(\"{id}\") for an upload deleted or removed before threw {failure?.GetType().Name}: {failure?.Message}; removing one that is gone already succeeds.");
        }

        Assert.True(await Store.GetAsync(neighbour.Id, Ct) is null, $"Upload '{neighbour.Id}' was listed as expired and removed, yet GetAsync still finds it.");
        Assert.Empty((await ListAllAsync()).Keys.Where(id => id == deleted.Id || id == removed.Id || id == neighbour.Id));
    }

    /// <summary>Lists every upload, by id.</summary>
    /// <returns>Each listed upload by its id; fails on an id listed twice.</returns>
    protected async Task<Dictionary<string, UploadInfo>> ListAllAsync()
    {
        var listed = new Dictionary<string, UploadInfo>(StringComparer.Ordinal);
        await foreach (var upload in Listing.ListAsync(Ct))
        {
            Assert.True(listed.TryAdd(upload.Id, upload), $"ListAsync listed upload '{upload.Id}' twice.");
        }

        return listed;
    }

    private async Task<UploadInfo> ListedAsync(string uploadId)
    {
        var listed = await ListAllAsync();
        Assert.True(listed.TryGetValue(uploadId, out var upload), $"Upload '{uploadId}' is not listed.");
        return upload;
    }
}
