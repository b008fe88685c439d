using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The termination capability (<see cref="ITusTerminationStore"/>): a deleted upload is gone, deleting is idempotent,
/// other uploads are untouched, and the id can be used afresh. Subclass it when the store's
/// <see cref="ITusStore.Termination"/> is not <see langword="null"/>.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class TerminationConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected TerminationConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The capability under test; fails the test when the store does not declare it.</summary>
    protected ITusTerminationStore Termination => RequireCapability(Store.Termination, nameof(ITusStore.Termination));

    /// <summary>After DeleteAsync, GetAsync no longer finds the upload.</summary>
    [Fact]
    public virtual async Task DeleteAsync_ExistingUpload_MakesItGone()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(100), seed: 30, 60);

        await Termination.DeleteAsync(upload.Id, Ct);

        Assert.Null(await Store.GetAsync(upload.Id, Ct));
    }

    /// <summary>Deleting the same upload twice succeeds both times.</summary>
    [Fact]
    public virtual async Task DeleteAsync_Twice_SucceedsBothTimes()
    {
        var upload = await CreateUploadAsync(100);

        await Termination.DeleteAsync(upload.Id, Ct);
        await Termination.DeleteAsync(upload.Id, Ct);

        Assert.Null(await Store.GetAsync(upload.Id, Ct));
    }

    /// <summary>Deleting an id that no upload ever had succeeds.</summary>
    [Fact]
    public virtual async Task DeleteAsync_UnknownId_Succeeds()
    {
        var other = await CreateUploadAsync(10);

        await Termination.DeleteAsync(UploadId.New(), Ct);

        Assert.NotNull(await Store.GetAsync(other.Id, Ct));
    }

    /// <summary>Deleting one upload leaves the others, and their data, as they were.</summary>
    [Fact]
    public virtual async Task DeleteAsync_OneUpload_LeavesTheOthersUntouched()
    {
        var before = await AppendPatternAsync(await CreateUploadAsync(100), seed: 31, 50);
        var doomed = await AppendPatternAsync(await CreateUploadAsync(100), seed: 32, 70);
        var after = await AppendPatternAsync(await CreateUploadAsync(100), seed: 33, 100);

        await Termination.DeleteAsync(doomed.Id, Ct);

        var keptBefore = await GetExistingAsync(before.Id);
        var keptAfter = await GetExistingAsync(after.Id);
        Assert.Equal(50, keptBefore.Offset);
        Assert.Equal(100, keptAfter.Offset);
        await AssertDataIsPatternAsync(keptBefore, seed: 31, 50);
        await AssertDataIsPatternAsync(keptAfter, seed: 33, 100);
    }

    /// <summary>An upload created under the id of a deleted one starts empty: nothing of the old one remains.</summary>
    [Fact]
    public virtual async Task DeleteAsync_ThenCreateWithTheSameId_StartsEmpty()
    {
        var old = await Store.CreateAsync(NewUpload(100) with { Metadata = UploadMetadata.Create([new("old", "1"u8.ToArray())]) }, Ct);
        old = await AppendPatternAsync(old, seed: 34, 80);
        await Termination.DeleteAsync(old.Id, Ct);

        var fresh = await Store.CreateAsync(NewUpload(40) with { Id = old.Id }, Ct);
        var stored = await GetExistingAsync(fresh.Id);

        Assert.Equal(0, stored.Offset);
        Assert.Equal(40, stored.Length);
        Assert.Empty(stored.Metadata);
        var appended = await AppendPatternAsync(stored, seed: 35, 40);
        await AssertDataIsPatternAsync(appended, seed: 35, 40);
    }

    /// <summary>AppendAsync and OpenReadAsync for a deleted upload throw <see cref="UploadNotFoundException"/> (given the
    /// upload as GetAsync returned it before the deletion, state and all). OpenReadAsync is left out when the fixture
    /// cannot read unfinished uploads (the upload deleted was unfinished).</summary>
    [Fact]
    public virtual async Task DeleteAsync_ThenAppendOrRead_ThrowsUploadNotFound()
    {
        var upload = await GetExistingAsync((await AppendPatternAsync(await CreateUploadAsync(100), seed: 34, 50)).Id);

        await Termination.DeleteAsync(upload.Id, Ct);

        await AssertThrowsUploadNotFoundAsync(upload.Id, "AppendAsync", async () => await Store.AppendAsync(upload, new Internal.GeneratedStream(34, 50, 10), Ct));
        if (CanReadData(upload))
        {
            await AssertThrowsUploadNotFoundAsync(upload.Id, "OpenReadAsync", async () =>
            {
                var stream = await Store.OpenReadAsync(upload, 0, 50, Ct);
                await stream.DisposeAsync();
            });
        }
    }
}
