using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The deferred-length capability (<see cref="ITusDeferredLengthStore"/>): uploads created without a length take bytes,
/// and get their length later without losing data, metadata or offset. Subclass it when the store's
/// <see cref="ITusStore.DeferredLength"/> is not <see langword="null"/>.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class DeferredLengthConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected DeferredLengthConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The capability under test; fails the test when the store does not declare it.</summary>
    protected ITusDeferredLengthStore DeferredLength => RequireCapability(Store.DeferredLength, nameof(ITusStore.DeferredLength));

    /// <summary>An upload created without a length is described with a deferred length, when created and when read.</summary>
    [Fact]
    public virtual async Task CreateAsync_WithoutLength_DescribesTheLengthAsDeferred()
    {
        _ = DeferredLength;
        var created = await CreateUploadAsync(null);
        var read = await GetExistingAsync(created.Id);

        Assert.True(created.IsLengthDeferred, $"CreateAsync returned length {created.Length} for an upload created without one.");
        Assert.True(read.IsLengthDeferred, $"GetAsync returned length {read.Length} for an upload created without one.");
        Assert.False(read.IsComplete);
    }

    /// <summary>An upload without a length takes bytes over several appends, and stays without a length.</summary>
    [Fact]
    public virtual async Task AppendAsync_LengthDeferred_AcceptsBytes()
    {
        _ = DeferredLength;
        var upload = await CreateUploadAsync(null);

        upload = await AppendPatternAsync(upload, seed: 60, 1000);
        upload = await AppendPatternAsync(upload, seed: 60, 70_000);

        Assert.True(upload.IsLengthDeferred, $"GetAsync returned length {upload.Length} after appends to an upload created without one.");
        await AssertDataIsPatternAsync(upload, seed: 60, 71_000);
    }

    /// <summary>SetLengthAsync records the length and keeps the offset, from its result and from GetAsync.</summary>
    [Fact]
    public virtual async Task SetLengthAsync_DeferredUpload_RecordsTheLength()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(null), seed: 61, 300);

        var result = await DeferredLength.SetLengthAsync(upload, 1000, Ct);
        var read = await GetExistingAsync(upload.Id);

        foreach (var (described, what) in new[] { (result, "SetLengthAsync"), (read, "GetAsync") })
        {
            Assert.True(described.Length == 1000, $"{what} returned length {described.Length} after SetLengthAsync(1000).");
            Assert.True(described.Offset == 300, $"{what} returned offset {described.Offset} after SetLengthAsync; the upload holds 300 bytes.");
            Assert.False(described.IsComplete);
        }
    }

    /// <summary>Setting the length to the current offset completes the upload.</summary>
    [Fact]
    public virtual async Task SetLengthAsync_EqualToTheOffset_CompletesTheUpload()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(null), seed: 62, 4321);

        var result = await DeferredLength.SetLengthAsync(upload, 4321, Ct);
        var read = await GetExistingAsync(upload.Id);

        Assert.True(result.IsComplete, "SetLengthAsync returned the upload as not complete although its length equals its offset.");
        Assert.True(read.IsComplete, "GetAsync describes the upload as not complete although its length was set to its offset.");
        await AssertDataIsPatternAsync(read, seed: 62, 4321);
    }

    /// <summary>Setting the length of an empty upload to zero completes it.</summary>
    [Fact]
    public virtual async Task SetLengthAsync_ZeroOnAnEmptyUpload_CompletesIt()
    {
        var upload = await CreateUploadAsync(null);

        var result = await DeferredLength.SetLengthAsync(upload, 0, Ct);

        Assert.True(result.IsComplete && result.Length == 0, $"SetLengthAsync(0) on an empty upload returned length {result.Length}, offset {result.Offset}.");
        Assert.True((await GetExistingAsync(upload.Id)).IsComplete, "GetAsync describes the upload as not complete after its length was set to 0.");
    }

    /// <summary>After its length is set, an upload takes the rest of its bytes and completes at that length.</summary>
    [Fact]
    public virtual async Task SetLengthAsync_ThenAppend_CompletesAtTheLength()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(null), seed: 63, 500);
        upload = await DeferredLength.SetLengthAsync(upload, 2000, Ct);

        upload = await AppendPatternAsync(upload, seed: 63, 1500);

        Assert.True(upload.IsComplete && upload.Length == 2000, $"The upload has length {upload.Length} and offset {upload.Offset} after all 2000 bytes arrived.");
        await AssertDataIsPatternAsync(upload, seed: 63, 2000);
    }

    /// <summary>Setting the length keeps the metadata, creation time and data.</summary>
    [Fact]
    public virtual async Task SetLengthAsync_DeferredUpload_KeepsMetadataCreationTimeAndData()
    {
        var metadata = UploadMetadata.Create([new("filename", "deferred.bin"u8.ToArray()), new("raw", new byte[] { 0xFF, 0x00 })]);
        var upload = await Store.CreateAsync(NewUpload(null) with { Metadata = metadata }, Ct);
        upload = await AppendPatternAsync(upload, seed: 64, 777);

        await DeferredLength.SetLengthAsync(upload, 10_000, Ct);
        var read = await GetExistingAsync(upload.Id);

        AssertMetadataEqual(metadata, read.Metadata, "GetAsync after SetLengthAsync");
        Assert.True(read.CreatedAt == CreatedAt, $"GetAsync returned the creation time {read.CreatedAt:O} instead of {CreatedAt:O} after SetLengthAsync.");
        await AssertDataIsPatternAsync(read, seed: 64, 777);
    }

    /// <summary>SetLengthAsync for an upload that was removed throws <see cref="UploadNotFoundException"/>. Reported
    /// skipped when the store can remove no upload (neither termination nor expiration).</summary>
    [Fact]
    public virtual async Task SetLengthAsync_RemovedUpload_ThrowsUploadNotFound()
    {
        _ = DeferredLength;
        var upload = await GetExistingAsync((await AppendPatternAsync(await CreateUploadAsync(null), seed: 65, 10)).Id);

        var removed = await TryRemoveUploadAsync(upload.Id);
        Assert.SkipUnless(removed, "The store can remove no upload (it offers neither termination nor expiration).");

        await AssertThrowsUploadNotFoundAsync(upload.Id, "SetLengthAsync", async () => await DeferredLength.SetLengthAsync(upload, 100, Ct));
    }
}
