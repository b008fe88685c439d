using Tus.Protocol;

namespace Tus.Stores.Tests;

public sealed class FileStoreCapabilityTests : FileStoreTestBase
{
    [Fact]
    public void Capabilities_AllFive_AreDeclaredByTheStoreItself()
    {
        var store = Store.Should().BeAssignableTo<ITusStore>().Which;

        store.Termination.Should().BeSameAs(Store);
        store.Concatenation.Should().BeSameAs(Store);
        store.DeferredLength.Should().BeSameAs(Store);
        store.Expiration.Should().BeSameAs(Store);
        store.Checksum.Should().BeSameAs(Store);
    }

    [Fact]
    public async Task DeleteAsync_ExistingUpload_RemovesDataInfoAndItsTemporaryFiles()
    {
        var upload = await CreateWithDataAsync(new byte[100]);
        var other = await CreateWithDataAsync(new byte[10]);
        var ownTemp = InfoPath(upload.Id) + ".0123abcd.tmp";
        var otherTemp = InfoPath(other.Id) + ".0123abcd.tmp";
        await File.WriteAllTextAsync(ownTemp, "{}", Ct);
        await File.WriteAllTextAsync(otherTemp, "{}", Ct);

        await Store.Termination!.DeleteAsync(upload.Id, Ct);

        (await Store.GetAsync(upload.Id, Ct)).Should().BeNull();
        File.Exists(DataPath(upload.Id)).Should().BeFalse();
        File.Exists(InfoPath(upload.Id)).Should().BeFalse();
        File.Exists(ownTemp).Should().BeFalse();
        File.Exists(otherTemp).Should().BeTrue("it belongs to another upload");
        (await Store.GetAsync(other.Id, Ct))!.Offset.Should().Be(10);
    }

    [Fact]
    public async Task DeleteAsync_Twice_Succeeds()
    {
        var upload = await CreateWithDataAsync(new byte[10]);

        await Store.Termination!.DeleteAsync(upload.Id, Ct);
        await Store.Termination!.DeleteAsync(upload.Id, Ct);

        Directory.EnumerateFileSystemEntries(StoreDirectory).Should().BeEmpty();
    }

    [Fact]
    public async Task DeleteAsync_UnknownUpload_Succeeds()
    {
        await Store.Termination!.DeleteAsync(UploadId.New(), Ct);

        Directory.EnumerateFileSystemEntries(StoreDirectory).Should().BeEmpty();
    }

    [Fact]
    public async Task DeleteAsync_IdThatPrefixesAnother_LeavesTheOtherAlone()
    {
        var shortId = await CreateWithDataAsync(new byte[1], template: new NewUpload { Id = "abc" });
        var longId = await CreateWithDataAsync(new byte[2], template: new NewUpload { Id = "abcd" });
        await File.WriteAllTextAsync(InfoPath(longId.Id) + ".x.tmp", "{}", Ct);

        await Store.Termination!.DeleteAsync(shortId.Id, Ct);

        (await Store.GetAsync(longId.Id, Ct))!.Offset.Should().Be(2);
        File.Exists(InfoPath(longId.Id) + ".x.tmp").Should().BeTrue();
    }

    [Fact]
    public async Task ConcatenateAsync_Partials_WritesThemInOrderAndCompletesTheFinal()
    {
        var first = RandomBytes(70_000, seed: 10);
        var second = RandomBytes(1, seed: 11);
        var third = RandomBytes(130_000, seed: 12);
        var partials = new List<UploadInfo>();
        foreach (var data in new[] { first, second, third })
        {
            partials.Add(await CreateWithDataAsync(data, template: new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Partial }));
        }

        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final(partials.Select(p => p.Id).ToArray()) }, Ct);

        var result = await Store.Concatenation!.ConcatenateAsync(final, partials, Ct);

        var expected = first.Concat(second).Concat(third).ToArray();
        result.Length.Should().Be(expected.Length);
        result.Offset.Should().Be(expected.Length);
        result.IsComplete.Should().BeTrue();
        var stored = (await Store.GetAsync(final.Id, Ct))!;
        stored.Length.Should().Be(expected.Length);
        stored.Offset.Should().Be(expected.Length);
        stored.Concatenation!.PartialIds.Should().Equal(partials.Select(p => p.Id));
        (await ReadAllAsync(stored)).Should().Equal(expected);
        (await ReadAllAsync((await Store.GetAsync(partials[0].Id, Ct))!)).Should().Equal(first);
        (await ReadAllAsync((await Store.GetAsync(partials[2].Id, Ct))!)).Should().Equal(third);
        TempFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task ConcatenateAsync_SamePartialTwice_WritesItTwice()
    {
        var partial = await CreateWithDataAsync([1, 2, 3]);
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([partial.Id, partial.Id]) }, Ct);

        var result = await Store.Concatenation!.ConcatenateAsync(final, [partial, partial], Ct);

        (await ReadAllAsync(result)).Should().Equal(1, 2, 3, 1, 2, 3);
    }

    [Fact]
    public async Task ConcatenateAsync_FinalWithDeclaredLength_KeepsItAndCompletes()
    {
        var partial = await CreateWithDataAsync([1, 2, 3]);
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 3, Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);

        var result = await Store.Concatenation!.ConcatenateAsync(final, [partial], Ct);

        result.IsComplete.Should().BeTrue();
        (await Store.GetAsync(final.Id, Ct))!.IsComplete.Should().BeTrue();
    }

    [Fact]
    public async Task ConcatenateAsync_DeclaredLengthDiffersFromTheSum_ThrowsInvalidOperation()
    {
        var partial = await CreateWithDataAsync([1, 2, 3]);
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 4, Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);

        var act = async () => await Store.Concatenation!.ConcatenateAsync(final, [partial], Ct);

        await act.Should().ThrowAsync<InvalidOperationException>();
        (await Store.GetAsync(final.Id, Ct))!.Offset.Should().Be(0);
    }

    [Fact]
    public async Task ConcatenateAsync_LeftoversOfAnInterruptedAttempt_AreReplaced()
    {
        var partial = await CreateWithDataAsync([1, 2, 3]);
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);
        await File.WriteAllBytesAsync(DataPath(final.Id), [9, 9, 9, 9, 9], Ct);

        var result = await Store.Concatenation!.ConcatenateAsync(final, [partial], Ct);

        result.Offset.Should().Be(3);
        (await ReadAllAsync(result)).Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task ConcatenateAsync_PartialMissingMidway_ThrowsAndLeavesTheFinalEmpty()
    {
        var first = await CreateWithDataAsync(RandomBytes(50_000, seed: 13));
        var second = await CreateWithDataAsync(RandomBytes(10, seed: 14));
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([first.Id, second.Id]) }, Ct);
        File.Delete(DataPath(second.Id));

        var act = async () => await Store.Concatenation!.ConcatenateAsync(final, [first, second], Ct);

        (await act.Should().ThrowAsync<UploadNotFoundException>()).Which.UploadId.Should().Be(second.Id);
        var stored = (await Store.GetAsync(final.Id, Ct))!;
        stored.Offset.Should().Be(0);
        stored.Length.Should().BeNull();
    }

    [Fact]
    public async Task ConcatenateAsync_PartialFileOfTheWrongLength_ThrowsAndLeavesTheFinalEmpty()
    {
        var first = await CreateWithDataAsync(RandomBytes(1000, seed: 15));
        var second = await CreateWithDataAsync(RandomBytes(1000, seed: 16));
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([first.Id, second.Id]) }, Ct);
        await File.AppendAllTextAsync(DataPath(second.Id), "extra", Ct);

        var act = async () => await Store.Concatenation!.ConcatenateAsync(final, [first, second], Ct);

        await act.Should().ThrowAsync<InvalidOperationException>();
        (await Store.GetAsync(final.Id, Ct))!.Offset.Should().Be(0);
    }

    [Fact]
    public async Task ConcatenateAsync_Cancelled_ThrowsAndLeavesTheFinalEmpty()
    {
        var partial = await CreateWithDataAsync(RandomBytes(1000, seed: 17));
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);
        await File.WriteAllBytesAsync(DataPath(final.Id), [9, 9, 9], Ct);

        var act = async () => await Store.Concatenation!.ConcatenateAsync(final, [partial], new CancellationToken(canceled: true));

        await act.Should().ThrowAsync<OperationCanceledException>();
        var stored = (await Store.GetAsync(final.Id, Ct))!;
        stored.Offset.Should().Be(0);
        stored.Length.Should().BeNull();
    }

    [Fact]
    public async Task ConcatenateAsync_IncompletePartial_ThrowsArgumentException()
    {
        var partial = await CreateWithDataAsync([1, 2, 3]);
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);

        var act = async () => await Store.Concatenation!.ConcatenateAsync(final, [partial with { Length = 10 }], Ct);

        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task ConcatenateAsync_NotAFinalUploadOrNoPartials_ThrowsArgumentException()
    {
        var partial = await CreateWithDataAsync([1, 2, 3]);
        var plain = await CreateAsync();
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);

        await FluentActions.Awaiting(async () => await Store.Concatenation!.ConcatenateAsync(plain, [partial], Ct)).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(async () => await Store.Concatenation!.ConcatenateAsync(final, [], Ct)).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(async () => await Store.Concatenation!.ConcatenateAsync(final, [final with { Length = 0 }], Ct)).Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task SetLengthAsync_DeferredUpload_SetsAndPersistsTheLength()
    {
        var upload = await CreateWithDataAsync(new byte[10], deferLength: true);
        upload.IsLengthDeferred.Should().BeTrue();

        var updated = await Store.DeferredLength!.SetLengthAsync(upload, 25, Ct);

        updated.Length.Should().Be(25);
        updated.Offset.Should().Be(10);
        var stored = (await Store.GetAsync(upload.Id, Ct))!;
        stored.Length.Should().Be(25);
        stored.Offset.Should().Be(10);
        TempFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task SetLengthAsync_LengthEqualToTheOffset_CompletesTheUpload()
    {
        var upload = await CreateWithDataAsync(new byte[10], deferLength: true);

        var updated = await Store.DeferredLength!.SetLengthAsync(upload, 10, Ct);

        updated.IsComplete.Should().BeTrue();
    }

    [Theory]
    [InlineData(9)]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task SetLengthAsync_LengthBelowTheOffset_ThrowsArgumentOutOfRangeAndKeepsItDeferred(long length)
    {
        var upload = await CreateWithDataAsync(new byte[10], deferLength: true);

        var act = async () => await Store.DeferredLength!.SetLengthAsync(upload, length, Ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
        (await Store.GetAsync(upload.Id, Ct))!.Length.Should().BeNull();
    }

    [Fact]
    public async Task SetLengthAsync_LengthAlreadySet_AcceptsTheSameAndRejectsAnother()
    {
        var upload = await CreateWithDataAsync(new byte[10]);

        (await Store.DeferredLength!.SetLengthAsync(upload, 10, Ct)).Length.Should().Be(10);
        var act = async () => await Store.DeferredLength!.SetLengthAsync(upload, 11, Ct);

        await act.Should().ThrowAsync<InvalidOperationException>();
        (await Store.GetAsync(upload.Id, Ct))!.Length.Should().Be(10);
    }

    [Fact]
    public async Task SetLengthAsync_UnknownUpload_ThrowsUploadNotFound()
    {
        var act = async () => await Store.DeferredLength!.SetLengthAsync(new UploadInfo { Id = UploadId.New() }, 10, Ct);

        await act.Should().ThrowAsync<UploadNotFoundException>();
    }

    [Fact]
    public async Task SetExpiryAsync_NewExpiry_PersistsItAndCanClearIt()
    {
        var upload = await CreateWithDataAsync(new byte[5], deferLength: true);
        var expiry = Clock.Now.AddMinutes(30);

        var updated = await Store.Expiration!.SetExpiryAsync(upload, expiry, Ct);

        updated.ExpiresAt.Should().Be(expiry);
        updated.Offset.Should().Be(5);
        (await Store.GetAsync(upload.Id, Ct))!.ExpiresAt.Should().Be(expiry);

        (await Store.Expiration!.SetExpiryAsync(upload, null, Ct)).ExpiresAt.Should().BeNull();
        (await Store.GetAsync(upload.Id, Ct))!.ExpiresAt.Should().BeNull();
        TempFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task SetExpiryAsync_UnknownUpload_ThrowsUploadNotFound()
    {
        var act = async () => await Store.Expiration!.SetExpiryAsync(new UploadInfo { Id = UploadId.New() }, Clock.Now, Ct);

        await act.Should().ThrowAsync<UploadNotFoundException>();
        Directory.EnumerateFileSystemEntries(StoreDirectory).Should().BeEmpty();
    }

    [Fact]
    public async Task ListAsync_MixedUploadsAndStrayFiles_ListsTheReadableUploadsWithTheirExpiry()
    {
        var now = Clock.Now;
        var expired = await CreateExpiringAsync(now.AddSeconds(-1), length: 10, written: 3);
        var expiringNow = await CreateExpiringAsync(now, length: 10, written: 0);
        var deferred = await CreateExpiringAsync(now.AddDays(-1), length: null, written: 4);
        await CreateExpiringAsync(now.AddSeconds(1), length: 10, written: 3);
        await CreateExpiringAsync(null, length: 10, written: 3);
        await CreateExpiringAsync(now.AddDays(-1), length: 3, written: 3);
        var corrupt = await CreateExpiringAsync(now.AddDays(-1), length: 10, written: 0);
        await File.WriteAllTextAsync(InfoPath(corrupt.Id), "{ not json", Ct);
        var dataless = await CreateExpiringAsync(now.AddDays(-1), length: 10, written: 0);
        File.Delete(DataPath(dataless.Id));
        var strayInfo = await File.ReadAllTextAsync(InfoPath(expired.Id), Ct);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, "stray.info.0a1b2c.tmp"), strayInfo.Replace(expired.Id, "stray", StringComparison.Ordinal), Ct);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, "not..valid.info"), strayInfo, Ct);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, ".info"), strayInfo, Ct);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, "readme.txt"), "hello", Ct);
        Directory.CreateDirectory(Path.Combine(StoreDirectory, "folder.info"));

        var listed = new List<UploadInfo>();
        await foreach (var upload in Store.Listing!.ListAsync(Ct))
        {
            listed.Add(upload);
        }

        // Corrupt and data-less uploads and stray files are skipped; the sweep picks the expired ones from the rest.
        listed.Should().HaveCount(6);
        listed.Where(u => u.IsExpiredAt(now)).Select(u => u.Id).Should().BeEquivalentTo([expired.Id, expiringNow.Id, deferred.Id]);
        listed.Single(u => u.Id == expired.Id).Offset.Should().Be(3);
        listed.Single(u => u.Id == deferred.Id).Offset.Should().Be(4);
    }

    [Fact]
    public async Task ListAsync_EmptyDirectory_ListsNothing()
    {
        var listed = new List<UploadInfo>();
        await foreach (var upload in Store.Listing!.ListAsync(Ct))
        {
            listed.Add(upload);
        }

        listed.Should().BeEmpty();
    }

    [Fact]
    public async Task ListAsync_Cancelled_Throws()
    {
        await CreateExpiringAsync(Clock.Now.AddDays(-1), length: 10, written: 0);

        var act = async () =>
        {
            await foreach (var upload in Store.Listing!.ListAsync(new CancellationToken(canceled: true)))
            {
                upload.Should().BeNull("no upload may be listed once cancelled");
            }
        };

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task RemoveExpiredAsync_ExpiredUpload_RemovesItAndIsIdempotent()
    {
        var upload = await CreateExpiringAsync(Clock.Now.AddDays(-1), length: 10, written: 3);

        await Store.Expiration!.RemoveExpiredAsync(upload.Id, Ct);
        await Store.Expiration!.RemoveExpiredAsync(upload.Id, Ct);

        (await Store.GetAsync(upload.Id, Ct)).Should().BeNull();
        Directory.EnumerateFileSystemEntries(StoreDirectory).Should().BeEmpty();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(600)]
    [InlineData(1000)]
    public async Task DiscardFromAsync_Offset_TruncatesTheDataThere(long offset)
    {
        var data = RandomBytes(1000, seed: 20);
        var upload = await CreateWithDataAsync(data);

        var updated = await Store.Checksum!.DiscardFromAsync(upload, offset, Ct);

        updated.Offset.Should().Be(offset);
        updated.Length.Should().Be(1000);
        var stored = (await Store.GetAsync(upload.Id, Ct))!;
        stored.Offset.Should().Be(offset);
        new FileInfo(DataPath(upload.Id)).Length.Should().Be(offset);
        (await ReadAllAsync(stored)).Should().Equal(data.Take((int)offset));
    }

    [Fact]
    public async Task DiscardFromAsync_ThenAppend_ContinuesFromThere()
    {
        var upload = await CreateWithDataAsync([1, 2, 3, 4], deferLength: true);

        var truncated = await Store.Checksum!.DiscardFromAsync(upload, 2, Ct);
        await Store.AppendAsync(truncated, new MemoryStream([7, 8]), Ct);

        (await ReadAllAsync((await Store.GetAsync(upload.Id, Ct))!)).Should().Equal(1, 2, 7, 8);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public async Task DiscardFromAsync_OffsetOutsideTheData_ThrowsArgumentOutOfRange(long offset)
    {
        var upload = await CreateWithDataAsync(new byte[10]);

        var act = async () => await Store.Checksum!.DiscardFromAsync(upload, offset, Ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
        new FileInfo(DataPath(upload.Id)).Length.Should().Be(10);
    }

    private async Task<UploadInfo> CreateExpiringAsync(DateTimeOffset? expiresAt, long? length, int written)
    {
        var upload = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = length, ExpiresAt = expiresAt }, Ct);
        await Store.AppendAsync(upload, new MemoryStream(new byte[written]), Ct);
        return (await Store.GetAsync(upload.Id, Ct))!;
    }
}
