using Tus.Conformance.Internal;
using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The checksum capability (<see cref="ITusChecksumStore"/>): the bytes of a request whose checksum did not match are
/// taken back exactly, so the upload returns to the offset it had and the next append continues from there. Subclass it
/// when the store's <see cref="ITusStore.Checksum"/> is not <see langword="null"/>.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class ChecksumConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected ChecksumConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The capability under test; fails the test when the store does not declare it.</summary>
    protected ITusChecksumStore Checksum => RequireCapability(Store.Checksum, nameof(ITusStore.Checksum));

    /// <summary>Discarding from the offset before the last append returns the upload to that offset, from its result
    /// and from GetAsync, and keeps the bytes before it.</summary>
    [Fact]
    public virtual async Task DiscardFromAsync_AfterAnAppend_ReturnsTheUploadToThatOffset()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(1000), seed: 80, 100);
        var unverified = await AppendPatternAsync(upload, seed: 99, 50);

        var result = await Checksum.DiscardFromAsync(unverified, 100, Ct);
        var read = await GetExistingAsync(upload.Id);

        Assert.True(result.Offset == 100, $"DiscardFromAsync(100) returned offset {result.Offset}.");
        Assert.True(read.Offset == 100, $"GetAsync reports offset {read.Offset} after DiscardFromAsync(100).");
        await AssertDataIsPatternAsync(read, seed: 80, 100);
    }

    /// <summary>After a discard, the next append writes at the restored offset, so no discarded byte survives.</summary>
    [Fact]
    public virtual async Task DiscardFromAsync_ThenAppend_ContinuesFromThatOffset()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(300), seed: 81, 100);
        var unverified = await AppendPatternAsync(upload, seed: 98, 150);
        var restored = await Checksum.DiscardFromAsync(unverified, 100, Ct);

        var completed = await AppendPatternAsync(restored, seed: 81, 200);

        Assert.True(completed.IsComplete, "The upload is not complete after its remaining bytes were appended following a discard.");
        await AssertDataIsPatternAsync(completed, seed: 81, 300);
    }

    /// <summary>Discarding from zero empties the upload.</summary>
    [Fact]
    public virtual async Task DiscardFromAsync_Zero_EmptiesTheUpload()
    {
        var unverified = await AppendPatternAsync(await CreateUploadAsync(100), seed: 82, 64);

        var result = await Checksum.DiscardFromAsync(unverified, 0, Ct);
        var read = await GetExistingAsync(unverified.Id);

        Assert.Equal(0, result.Offset);
        Assert.Equal(0, read.Offset);
        if (CanReadData(read))
        {
            Assert.Empty(await ReadAsync(read, 0, 0));
        }

        await AssertDataIsPatternAsync(await AppendPatternAsync(read, seed: 83, 100), seed: 83, 100);
    }

    /// <summary>Discarding the bytes of a request that completed the upload makes it unfinished again.</summary>
    [Fact]
    public virtual async Task DiscardFromAsync_CompletedUpload_MakesItUnfinishedAgain()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(100), seed: 84, 60);
        var completed = await AppendPatternAsync(upload, seed: 84, 40);
        Assert.True(completed.IsComplete, "The upload is not complete after all its bytes were appended.");

        var result = await Checksum.DiscardFromAsync(completed, 60, Ct);

        Assert.False(result.IsComplete, "DiscardFromAsync returned the upload as complete after its last 40 bytes were discarded.");
        Assert.False((await GetExistingAsync(upload.Id)).IsComplete, "GetAsync describes the upload as complete after its last 40 bytes were discarded.");
    }

    /// <summary>A discard keeps the length, metadata and creation time.</summary>
    [Fact]
    public virtual async Task DiscardFromAsync_AnyOffset_KeepsLengthMetadataAndCreationTime()
    {
        var metadata = UploadMetadata.Create([new("filename", "checked.bin"u8.ToArray()), new("raw", new byte[] { 0x80, 0x00, 0x7F })]);
        var upload = await Store.CreateAsync(NewUpload(500) with { Metadata = metadata }, Ct);
        var unverified = await AppendPatternAsync(upload, seed: 85, 200);

        await Checksum.DiscardFromAsync(unverified, 0, Ct);
        var read = await GetExistingAsync(upload.Id);

        Assert.Equal(500, read.Length);
        AssertMetadataEqual(metadata, read.Metadata, "GetAsync after DiscardFromAsync");
        Assert.True(read.CreatedAt == CreatedAt, $"GetAsync returned the creation time {read.CreatedAt:O} instead of {CreatedAt:O} after DiscardFromAsync.");
    }

    /// <summary>DiscardFromAsync for an upload that was removed throws <see cref="UploadNotFoundException"/>. Reported
    /// skipped when the store can remove no upload (neither termination nor expiration).</summary>
    [Fact]
    public virtual async Task DiscardFromAsync_RemovedUpload_ThrowsUploadNotFound()
    {
        _ = Checksum;
        var upload = await GetExistingAsync((await AppendPatternAsync(await CreateUploadAsync(100), seed: 86, 40)).Id);

        var removed = await TryRemoveUploadAsync(upload.Id);
        Assert.SkipUnless(removed, "The store can remove no upload (it offers neither termination nor expiration).");

        await AssertThrowsUploadNotFoundAsync(upload.Id, "DiscardFromAsync", async () => await Checksum.DiscardFromAsync(upload, 20, Ct));
    }

    /// <summary>
    /// AppendAsync given a body that yields some bytes and then throws <see cref="ChecksumMismatchException"/> (as the
    /// engine's body does, instead of ending, when the bytes fail their checksum) lets an exception propagate, and the
    /// upload keeps its old offset: GetAsync reports it at once (the store kept none of those bytes, as it should), or
    /// after DiscardFromAsync of the old offset (the store kept some; the engine takes them back that way). Appending then
    /// continues from the old offset and the upload holds exactly the bytes appended outside the failed call.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_DataThrowsChecksumMismatch_ThrowsAndTheOldOffsetStaysOrIsRestored()
    {
        _ = Checksum;
        var upload = await AppendPatternAsync(await CreateUploadAsync(70_300), seed: 87, 100);
        var body = new GeneratedStream(96, 100, 70_000) { MaxRead = 16 * 1024, FailAfter = 70_000, Failure = new ChecksumMismatchException() };

        var exception = await Record.ExceptionAsync(async () => await Store.AppendAsync(upload, body, Ct));

        Assert.True(
            exception is not null,
            $"AppendAsync returned normally although its data threw ChecksumMismatchException after {body.Delivered} bytes; it must let the exception propagate (a store should keep none of a body that fails its checksum).");
        var after = await GetExistingAsync(upload.Id);
        if (after.Offset != 100)
        {
            Assert.True(
                after.Offset > 100 && after.Offset <= 70_100,
                $"GetAsync reports offset {after.Offset} for upload '{upload.Id}' after an append at offset 100 whose data threw ChecksumMismatchException after {body.Delivered} bytes; it must be between 100 and {100 + body.Delivered}.");
            var restored = await Checksum.DiscardFromAsync(after, 100, Ct);
            after = await GetExistingAsync(upload.Id);
            Assert.True(
                restored.Offset == 100 && after.Offset == 100,
                $"After an append whose data threw ChecksumMismatchException kept {after.Offset - 100} bytes, DiscardFromAsync(100) returned offset {restored.Offset} and GetAsync reports {after.Offset}; both must be 100.");
        }

        var completed = await AppendPatternAsync(after, seed: 87, 70_200);

        Assert.True(completed.IsComplete, "The upload is not complete after its remaining bytes were appended following an append whose data threw ChecksumMismatchException.");
        await AssertDataIsPatternAsync(completed, seed: 87, 70_300);
    }
}
