using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The expiration capability (<see cref="ITusExpirationStore"/>): expiry times are stamped and moved, exactly the
/// unfinished uploads whose expiry is at or before "now" are listed, and removing them makes them gone. Subclass it when
/// the store's <see cref="ITusStore.Expiration"/> is not <see langword="null"/>.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class ExpirationConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>The "now" the listing tests pass: a day after <see cref="StoreConformanceTestBase{TFixture}.CreatedAt"/>.</summary>
    protected static DateTimeOffset Now { get; } = CreatedAt.AddDays(1);

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected ExpirationConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The capability under test; fails the test when the store does not declare it.</summary>
    protected ITusExpirationStore Expiration => RequireCapability(Store.Expiration, nameof(ITusStore.Expiration));

    /// <summary>The expiry given at creation is kept, from CreateAsync and GetAsync.</summary>
    [Fact]
    public virtual async Task CreateAsync_WithExpiry_StampsIt()
    {
        _ = Expiration;
        var expiresAt = CreatedAt.AddHours(2);

        var created = await Store.CreateAsync(NewUpload(10) with { ExpiresAt = expiresAt }, Ct);
        var read = await GetExistingAsync(created.Id);

        Assert.True(created.ExpiresAt == expiresAt, $"CreateAsync returned the expiry {created.ExpiresAt:O} instead of {expiresAt:O}.");
        Assert.True(read.ExpiresAt == expiresAt, $"GetAsync returned the expiry {read.ExpiresAt:O} instead of {expiresAt:O}.");
    }

    /// <summary>SetExpiryAsync moves the expiry (as a sliding expiration does on every write) and keeps the offset and
    /// data.</summary>
    [Fact]
    public virtual async Task SetExpiryAsync_NewTime_MovesTheExpiry()
    {
        var upload = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = CreatedAt.AddHours(1) }, Ct);
        upload = await AppendPatternAsync(upload, seed: 70, 40);
        var moved = CreatedAt.AddHours(5);

        var result = await Expiration.SetExpiryAsync(upload, moved, Ct);
        var read = await GetExistingAsync(upload.Id);

        foreach (var (described, what) in new[] { (result, "SetExpiryAsync"), (read, "GetAsync") })
        {
            Assert.True(described.ExpiresAt == moved, $"{what} returned the expiry {described.ExpiresAt:O} instead of {moved:O}.");
            Assert.True(described.Offset == 40, $"{what} returned offset {described.Offset} after SetExpiryAsync; the upload holds 40 bytes.");
        }

        await AssertDataIsPatternAsync(read, seed: 70, 40);
    }

    /// <summary>SetExpiryAsync with null removes the expiry.</summary>
    [Fact]
    public virtual async Task SetExpiryAsync_Null_ClearsTheExpiry()
    {
        var upload = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = CreatedAt.AddHours(1) }, Ct);

        var result = await Expiration.SetExpiryAsync(upload, null, Ct);
        var read = await GetExistingAsync(upload.Id);

        Assert.Null(result.ExpiresAt);
        Assert.Null(read.ExpiresAt);
        Assert.Empty(await ListExpiredIdsAsync(Now.AddYears(10)));
    }

    /// <summary>Unfinished uploads whose expiry is before "now", or exactly "now", are listed, described as they are.</summary>
    [Fact]
    public virtual async Task ListExpiredAsync_UnfinishedUploadsAtOrPastTheirExpiry_AreListed()
    {
        var past = await AppendPatternAsync(await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct), seed: 71, 30);
        var exactlyNow = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now }, Ct);
        var deferred = Store.DeferredLength is null ? null : await Store.CreateAsync(NewUpload(null) with { ExpiresAt = Now.AddDays(-3) }, Ct);

        var listed = await ListExpiredAsync(Now);

        Assert.True(listed.ContainsKey(past.Id), "An unfinished upload that expired an hour ago is not listed.");
        Assert.True(listed.ContainsKey(exactlyNow.Id), "An unfinished upload that expires exactly at 'now' is not listed (expired means at or before now).");
        Assert.True(listed[past.Id].Offset == 30, $"The listing describes an upload holding 30 bytes with offset {listed[past.Id].Offset}.");
        if (deferred is not null)
        {
            Assert.True(listed.ContainsKey(deferred.Id), "An expired upload whose length is deferred is not listed.");
        }

        Assert.Equal(deferred is null ? 2 : 3, listed.Count);
    }

    /// <summary>Uploads that expire after "now", or never, are not listed.</summary>
    [Fact]
    public virtual async Task ListExpiredAsync_UploadsNotYetExpired_AreNotListed()
    {
        var later = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddSeconds(1) }, Ct);
        var never = await Store.CreateAsync(NewUpload(100), Ct);
        var expired = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddSeconds(-1) }, Ct);

        var listed = await ListExpiredIdsAsync(Now);

        Assert.DoesNotContain(later.Id, listed);
        Assert.DoesNotContain(never.Id, listed);
        Assert.Contains(expired.Id, listed);
        Assert.Single(listed);
    }

    /// <summary>Complete uploads never expire, so they are never listed, whatever their expiry time.</summary>
    [Fact]
    public virtual async Task ListExpiredAsync_CompleteUploads_AreNotListed()
    {
        var complete = await Store.CreateAsync(NewUpload(50) with { ExpiresAt = Now.AddHours(-2) }, Ct);
        await AppendPatternAsync(complete, seed: 72, 50);
        var empty = await Store.CreateAsync(NewUpload(0) with { ExpiresAt = Now.AddHours(-2) }, Ct);
        var unfinished = await Store.CreateAsync(NewUpload(50) with { ExpiresAt = Now.AddHours(-2) }, Ct);

        var listed = await ListExpiredIdsAsync(Now);

        Assert.DoesNotContain(complete.Id, listed);
        Assert.DoesNotContain(empty.Id, listed);
        Assert.Equal([unfinished.Id], listed);
    }

    /// <summary>The listing follows expiry times moved by SetExpiryAsync.</summary>
    [Fact]
    public virtual async Task ListExpiredAsync_AfterSetExpiry_FollowsTheNewExpiry()
    {
        var extended = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct);
        var shortened = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(1) }, Ct);

        await Expiration.SetExpiryAsync(extended, Now.AddHours(1), Ct);
        await Expiration.SetExpiryAsync(shortened, Now.AddHours(-1), Ct);
        var listed = await ListExpiredIdsAsync(Now);

        Assert.Equal([shortened.Id], listed);
    }

    /// <summary>A removed upload is gone, and no longer listed; the other uploads stay.</summary>
    [Fact]
    public virtual async Task RemoveExpiredAsync_ExpiredUpload_MakesItGone()
    {
        var doomed = await AppendPatternAsync(await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct), seed: 73, 10);
        var alsoExpired = await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(-1) }, Ct);
        var alive = await AppendPatternAsync(await Store.CreateAsync(NewUpload(100) with { ExpiresAt = Now.AddHours(1) }, Ct), seed: 74, 20);

        await Expiration.RemoveExpiredAsync(doomed.Id, Ct);

        Assert.Null(await Store.GetAsync(doomed.Id, Ct));
        Assert.Equal([alsoExpired.Id], await ListExpiredIdsAsync(Now));
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

    /// <summary>Lists the expired uploads at <paramref name="now"/>, by id.</summary>
    /// <param name="now">The time to list at.</param>
    /// <returns>Each listed upload by its id; fails on an id listed twice.</returns>
    protected async Task<Dictionary<string, UploadInfo>> ListExpiredAsync(DateTimeOffset now)
    {
        var listed = new Dictionary<string, UploadInfo>(StringComparer.Ordinal);
        await foreach (var upload in Expiration.ListExpiredAsync(now, Ct))
        {
            Assert.True(listed.TryAdd(upload.Id, upload), $"ListExpiredAsync listed upload '{upload.Id}' twice.");
        }

        return listed;
    }

    private async Task<List<string>> ListExpiredIdsAsync(DateTimeOffset now) => (await ListExpiredAsync(now)).Keys.ToList();
}
