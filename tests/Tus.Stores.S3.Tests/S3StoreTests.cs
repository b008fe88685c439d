using Amazon.S3.Model;
using Tus.Protocol;

namespace Tus.Stores.S3.Tests;

/// <summary>The S3 store's own behaviour against a real S3 server (Ceph RGW), beyond the conformance suites.</summary>
public sealed class S3StoreTests : S3StoreTestBase
{
    [Fact]
    public async Task AppendAsync_40MiBIn1MiBPatches_JoinsTailsAndAssemblesOneObject()
    {
        const long length = 40 * MiB;
        var upload = await CreateAsync(length);
        for (var i = 0; i < 39; i++)
        {
            upload = await AppendAsync(upload, seed: 1, MiB);

            // Small tails are kept in the record and joined with the next PATCH until they make a part of 5 MiB.
            var committed = await CommittedAsync(upload.Id);
            committed.PartSizes.Where(size => size < 5 * MiB).Should().BeEmpty("every part is at least the minimum part size");
            committed.Kept.Should().BeLessThan(5 * MiB, "only bytes too few for a part are kept outside the multipart upload");
            (committed.PartBytes + committed.Kept).Should().Be(upload.Offset);
            await AssertDataAsync(upload, seed: 1, upload.Offset);
            (await DataObjectsAsync(upload.Id)).Count(o => o.Key.StartsWith(".tail.", StringComparison.Ordinal)).Should().BeLessThanOrEqualTo(2, "older records are deleted");
        }

        upload = await AppendAsync(upload, seed: 1, MiB);
        upload.IsComplete.Should().BeTrue();
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", length)], "a complete upload is one object, with no record left");
        (await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix + upload.Id }, Ct)).MultipartUploads.Should().BeNullOrEmpty("the multipart upload was completed");
        await AssertDataAsync(upload, seed: 1, length);
        using var whole = await Client.GetObjectAsync(Bucket, Prefix + upload.Id, Ct);
        await AssertStreamAsync(whole.ResponseStream, seed: 1, length);
    }

    [Fact]
    public async Task AppendAsync_DeferredLengthFinishedBySmallLastPatch_KeepsEveryByte()
    {
        var upload = await CreateAsync(length: null);
        upload = await AppendAsync(upload, seed: 2, 12 * MiB);
        upload = await ((ITusStore)Store).DeferredLength!.SetLengthAsync(upload, (12 * MiB) + 100, Ct);
        upload = await AppendAsync(upload, seed: 2, 100);

        upload.IsComplete.Should().BeTrue();
        var head = await Client.GetObjectMetadataAsync(Bucket, Prefix + upload.Id, Ct);
        head.ContentLength.Should().Be((12 * MiB) + 100, "the final object keeps the last small PATCH (tusd PR #1385 truncated it)");
        (await DataObjectsAsync(upload.Id)).Should().HaveCount(1);
        await AssertDataAsync(upload, seed: 2, (12 * MiB) + 100);
    }

    [Fact]
    public async Task AppendAsync_SmallDeferredUploadCompletedBySetLength_AssemblesTheFinalObject()
    {
        var upload = await CreateAsync(length: null);
        upload = await AppendAsync(upload, seed: 3, 6 * MiB);
        upload = await AppendAsync(upload, seed: 3, 3 * MiB);
        var committed = await CommittedAsync(upload.Id);
        committed.PartSizes.Should().Equal([6 * MiB]);
        committed.Kept.Should().Be(3 * MiB);

        upload = await ((ITusStore)Store).DeferredLength!.SetLengthAsync(upload, 9 * MiB, Ct);

        upload.IsComplete.Should().BeTrue();
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", 9 * MiB)], "the kept bytes became the last part");
        await AssertDataAsync(upload, seed: 3, 9 * MiB);
    }

    [Fact]
    public async Task SetLengthAsync_UploadWithOnlyKeptBytes_WritesThemAsTheFinalObject()
    {
        var upload = await CreateAsync(length: null);
        upload = await AppendAsync(upload, seed: 16, 100_000);

        upload = await ((ITusStore)Store).DeferredLength!.SetLengthAsync(upload, 100_000, Ct);

        upload.IsComplete.Should().BeTrue();
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", 100_000L)]);
        await AssertDataAsync(upload, seed: 16, 100_000);
    }

    [Theory]
    [InlineData(new[] { 6, 7 }, new[] { 0, 0 })]           // large partials: server-side copies
    [InlineData(new[] { 0, 0, 0 }, new[] { 100_000, 1, 5000 })] // small partials: read and uploaded
    [InlineData(new[] { 0, 6, 0 }, new[] { 300_000, 0, 7 })]   // small, large, small
    public async Task ConcatenateAsync_LargeAndSmallPartials_WritesTheirBytesInOrder(int[] mebibytes, int[] bytes)
    {
        var partials = new List<UploadInfo>();
        var expected = new List<byte>();
        for (var i = 0; i < mebibytes.Length; i++)
        {
            var size = (mebibytes[i] * MiB) + bytes[i];
            var partial = await CreateAsync(size, concatenation: UploadConcatenation.Partial);
            partial = await AppendAsync(partial, seed: 10 + i, size);
            partials.Add(partial);
            expected.AddRange(Bytes.Make(10 + i, 0, (int)size));
        }

        var final = await CreateAsync(null, concatenation: UploadConcatenation.Final(partials.Select(p => p.Id).ToList()));
        final = await ((ITusStore)Store).Concatenation!.ConcatenateAsync(final, partials, Ct);

        final.IsComplete.Should().BeTrue();
        final.Length.Should().Be(expected.Count);
        using var whole = await Client.GetObjectAsync(Bucket, Prefix + final.Id, Ct);
        using var copy = new MemoryStream();
        await whole.ResponseStream.CopyToAsync(copy, Ct);
        copy.ToArray().SequenceEqual(expected).Should().BeTrue("the final object holds the partials' bytes in order");
        (await Store.GetAsync(final.Id, Ct))!.Offset.Should().Be(expected.Count);
    }

    [Fact]
    public async Task DeleteAsync_UploadWithPiecesAndAnOrphanMultipartUpload_LeavesNothing()
    {
        var upload = await CreateAsync(30 * MiB);
        upload = await AppendAsync(upload, seed: 4, 6 * MiB);
        upload = await AppendAsync(upload, seed: 4, 6 * MiB);
        var orphan = await Client.InitiateMultipartUploadAsync(Bucket, Prefix + upload.Id, Ct);

        await ((ITusStore)Store).Termination!.DeleteAsync(upload.Id, Ct);

        (await S3TestEnvironment.KeysAsync(Client, Prefix)).Should().BeEmpty();
        var multipart = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix }, Ct);
        (multipart.MultipartUploads ?? []).Should().NotContain(u => u.UploadId == orphan.UploadId);
        (await Store.GetAsync(upload.Id, Ct)).Should().BeNull();
    }

    [Fact]
    public async Task AppendAsync_PatchCutMidPart_KeepsExactlyWhatArrivedAndResumes()
    {
        const long length = 20 * MiB;
        var cut = (7 * MiB) + 12_345; // past the first 5 MiB part, inside the second
        var upload = await CreateAsync(length);

        var appended = await Store.AppendAsync(upload, new PatternStream(5, 0, cut) { MaxRead = 100_000 }, Ct);

        appended.Should().Be(cut);
        var resumed = await Store.GetAsync(upload.Id, Ct);
        resumed!.Offset.Should().Be(cut);
        resumed = await AppendAsync(resumed, seed: 5, length - cut);
        resumed.IsComplete.Should().BeTrue();
        await AssertDataAsync(resumed, seed: 5, length);
    }

    [Theory]
    [InlineData(0, 12 * 1024 * 1024 + 4321)] // two full parts in flight or done, the third partly filled
    [InlineData(3 * 1024 * 1024, 9 * 1024 * 1024 + 77)] // after a small tail that the write joins
    [InlineData(0, 5 * 1024 * 1024)] // exactly at a part boundary
    public async Task AppendAsync_TokenFiresMidPart_StoresWhatArrivedThenThrows(long before, long cancelAfter)
    {
        const long length = 30 * MiB;
        var upload = await CreateAsync(length);
        if (before > 0)
        {
            upload = await AppendAsync(upload, seed: 13, before);
        }

        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var body = new PatternStream(13, before, length - before) { MaxRead = 100_000, CancelSource = abandon, CancelAfter = cancelAfter };

        var act = async () => await Store.AppendAsync(upload, body, abandon.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        body.Given.Should().Be(cancelAfter, "reading stops when the token fires");
        var after = await Store.GetAsync(upload.Id, Ct);
        after!.Offset.Should().Be(before + cancelAfter, "every byte received before the token fired is stored");
        await AssertDataAsync(after, seed: 13, after.Offset);
        (await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix }, Ct)).MultipartUploads.Should().HaveCountLessThanOrEqualTo(1, "only the upload's own multipart upload is left");
        after = await AppendAsync(after, seed: 13, length - after.Offset);
        after.IsComplete.Should().BeTrue();
        await AssertDataAsync(after, seed: 13, length);
    }

    [Fact]
    public async Task AppendAsync_TokenFiresAsTheLastByteArrives_StillAssemblesTheFinalObject()
    {
        const long length = 12 * MiB;
        var upload = await AppendAsync(await CreateAsync(length), seed: 15, 6 * MiB);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var body = new PatternStream(15, 6 * MiB, 6 * MiB) { CancelSource = abandon, CancelAfter = 6 * MiB };

        var act = async () => await Store.AppendAsync(upload, body, abandon.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        var after = await Store.GetAsync(upload.Id, Ct);
        after!.IsComplete.Should().BeTrue("every byte arrived before the token fired");
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", length)], "the pieces were assembled into the final object");
        using var whole = await Client.GetObjectAsync(Bucket, Prefix + upload.Id, Ct);
        await AssertStreamAsync(whole.ResponseStream, seed: 15, length);
    }

    [Fact]
    public async Task AppendAsync_BodyThrowsMidPart_KeepsWhatArrivedThenThrows()
    {
        var upload = await CreateAsync(20 * MiB);
        var broken = (6 * MiB) + 3;

        var act = async () => await Store.AppendAsync(upload, new PatternStream(6, 0, 20 * MiB) { MaxRead = 65_536, FailAfter = broken, Failure = new IOException("gone") }, Ct);

        await act.Should().ThrowAsync<IOException>();
        var after = await Store.GetAsync(upload.Id, Ct);
        after!.Offset.Should().Be(broken);
        await AssertDataAsync(after, seed: 6, broken);
    }

    [Theory]
    [InlineData(8 * 1024 * 1024)] // parts uploaded, never committed
    [InlineData(100_000)] // only joined with the kept bytes
    public async Task AppendAsync_BodyFailsItsChecksum_CommitsNothingAndTheUploadGoesOn(long unverified)
    {
        var upload = await CreateAsync(30 * MiB);
        upload = await AppendAsync(upload, seed: 17, 6 * MiB);
        upload = await AppendAsync(upload, seed: 17, MiB); // kept bytes the next append joins
        var before = await DataObjectsAsync(upload.Id);

        // The engine's body when the client's checksum does not match: its end is a ChecksumMismatchException.
        var body = new PatternStream(99, upload.Offset, unverified) { FailAfter = unverified, Failure = new ChecksumMismatchException() };
        var act = async () => await Store.AppendAsync(upload, body, Ct);

        await act.Should().ThrowAsync<ChecksumMismatchException>();
        (await DataObjectsAsync(upload.Id)).Should().BeEquivalentTo(before, "no record is written for bytes that failed their checksum");
        var fresh = await Store.GetAsync(upload.Id, Ct);
        fresh!.Offset.Should().Be(7 * MiB, "the offset is unchanged");
        await AssertDataAsync(fresh, seed: 17, 7 * MiB);
        fresh = await AppendAsync(fresh, seed: 17, 23 * MiB);
        fresh.IsComplete.Should().BeTrue();
        await AssertDataAsync(fresh, seed: 17, 30 * MiB);
    }

    [Fact]
    public async Task DiscardFromAsync_AfterAnAppend_RestoresTheOffsetAndKeptBytes()
    {
        var upload = await CreateAsync(30 * MiB);
        upload = await AppendAsync(upload, seed: 7, 6 * MiB);
        upload = await AppendAsync(upload, seed: 7, MiB); // a small tail the next append joins

        // A store's discard after an append the engine could not verify (a store that kept the bytes).
        var appended = await Store.AppendAsync(upload, new PatternStream(99, upload.Offset, 8 * MiB), Ct);
        var restored = await ((ITusStore)Store).Checksum!.DiscardFromAsync(upload with { Offset = upload.Offset + appended }, upload.Offset, Ct);

        restored.Offset.Should().Be(7 * MiB);
        var fresh = await Store.GetAsync(upload.Id, Ct);
        fresh!.Offset.Should().Be(7 * MiB);
        await AssertDataAsync(fresh, seed: 7, 7 * MiB);
        fresh = await AppendAsync(fresh, seed: 7, 23 * MiB);
        await AssertDataAsync(fresh, seed: 7, 30 * MiB);
        (await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix }, Ct)).MultipartUploads.Should().BeNullOrEmpty();
    }

    [Fact]
    public async Task DiscardFromAsync_IntoPartsOfEarlierAppends_IsNotSupported()
    {
        var upload = await CreateAsync(30 * MiB);
        upload = await AppendAsync(upload, seed: 18, 6 * MiB);
        upload = await AppendAsync(upload, seed: 18, 6 * MiB);

        var act = async () => await ((ITusStore)Store).Checksum!.DiscardFromAsync(upload, 3 * MiB, Ct);

        await act.Should().ThrowAsync<NotSupportedException>();
        (await Store.GetAsync(upload.Id, Ct))!.Offset.Should().Be(12 * MiB, "nothing changed");
    }

    [Fact]
    public async Task DiscardFromAsync_AfterTheAppendThatCompletedTheUpload_MakesItUnfinishedWithItsBytes()
    {
        var upload = await CreateAsync(14 * MiB);
        upload = await AppendAsync(upload, seed: 8, 6 * MiB);
        var completed = await AppendAsync(upload, seed: 8, 8 * MiB);
        completed.IsComplete.Should().BeTrue();

        var restored = await ((ITusStore)Store).Checksum!.DiscardFromAsync(completed, 6 * MiB, Ct);

        restored.Offset.Should().Be(6 * MiB);
        restored.IsComplete.Should().BeFalse();
        (await DataObjectsAsync(upload.Id)).Should().NotContain(o => o.Key == "", "the final object is gone");
        await AssertDataAsync(restored, seed: 8, 6 * MiB);
        var finished = await AppendAsync(restored, seed: 8, 8 * MiB);
        finished.IsComplete.Should().BeTrue();
        await AssertDataAsync(finished, seed: 8, 14 * MiB);
    }

    [Fact]
    public async Task CreateAsync_ZeroLength_WritesAnEmptyFinalObject()
    {
        var upload = await CreateAsync(0, UploadMetadata.FromStrings([new("filetype", "text/plain")]));

        upload.IsComplete.Should().BeTrue();
        var head = await Client.GetObjectMetadataAsync(Bucket, Prefix + upload.Id, Ct);
        head.ContentLength.Should().Be(0);
        head.Headers.ContentType.Should().Be("text/plain");
    }

    [Fact]
    public async Task FinalObject_CarriesContentTypeAndAsciiMetadata_InfoKeepsExactBytes()
    {
        var metadata = UploadMetadata.Create([new("filetype", "image/png"u8.ToArray()), new("filename", "bild-ä.png"u8.ToArray()), new("raw", new byte[] { 0, 0xFF })]);
        var upload = await CreateAsync(6 * MiB, metadata);
        upload = await AppendAsync(upload, seed: 9, 6 * MiB);

        var head = await Client.GetObjectMetadataAsync(Bucket, Prefix + upload.Id, Ct);
        head.Headers.ContentType.Should().Be("image/png");
        head.Metadata["filename"].Should().Be("bild-?.png", "S3 metadata is ASCII: each other character becomes ?");
        var stored = await Store.GetAsync(upload.Id, Ct);
        stored!.Metadata.TryGetValue("filename", out var name).Should().BeTrue();
        name.ToArray().Should().Equal("bild-ä.png"u8.ToArray());
    }

    [Fact]
    public async Task AppendAsync_BufferedInMemory_StreamsManyPartsConcurrently()
    {
        using var store = CreateStore(o =>
        {
            o.PreferredPartSize = 5 * MiB;
            o.BufferInMemory = true;
            o.MaxConcurrentPartUploads = 3;
        });
        var upload = await store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 33 * MiB }, Ct);

        var appended = await store.AppendAsync(upload, new PatternStream(11, 0, 33 * MiB), Ct);

        appended.Should().Be(33 * MiB);
        var stored = await store.GetAsync(upload.Id, Ct);
        stored!.IsComplete.Should().BeTrue();
        using var whole = await Client.GetObjectAsync(Bucket, Prefix + upload.Id, Ct);
        await AssertStreamAsync(whole.ResponseStream, seed: 11, 33 * MiB);
    }

    [Fact]
    public async Task AppendAsync_DisableContentHashesOverPlainHttp_StillWritesSigned()
    {
        // The SDK refuses UNSIGNED-PAYLOAD over http://: the option must not break a store on such an endpoint.
        S3TestEnvironment.Endpoint.Should().StartWith("http://");
        using var store = CreateStore(o =>
        {
            o.PreferredPartSize = 5 * MiB;
            o.DisableContentHashes = true;
        });
        var upload = await store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = 11 * MiB }, Ct);

        (await store.AppendAsync(upload, new PatternStream(14, 0, 11 * MiB), Ct)).Should().Be(11 * MiB);

        using var whole = await Client.GetObjectAsync(Bucket, Prefix + upload.Id, Ct);
        await AssertStreamAsync(whole.ResponseStream, seed: 14, 11 * MiB);
    }

    [Fact]
    public async Task OpenReadAsync_FinishedUpload_ReturnsExactlyTheRangeAcrossParts()
    {
        var upload = await CreateAsync(12 * MiB);
        upload = await AppendAsync(upload, seed: 12, 6 * MiB);
        upload = await AppendAsync(upload, seed: 12, 6 * MiB);

        var from = (6 * MiB) - 1000;
        var stream = await Store.OpenReadAsync(upload, from, 5000, Ct);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, Ct);
            copy.ToArray().Should().Equal(Bytes.Make(12, from, 5000));
        }
    }

    [Fact]
    public async Task OpenReadAsync_UnfinishedUpload_ReadsTheKeptBytesAndRefusesParts()
    {
        var upload = await CreateAsync(20 * MiB);
        upload = await AppendAsync(upload, seed: 19, (6 * MiB) + 5000);

        var kept = await Store.OpenReadAsync(upload, 6 * MiB, 5000, Ct);
        await using (kept)
        {
            var bytes = new byte[5000];
            await kept.ReadExactlyAsync(bytes, Ct);
            bytes.Should().Equal(Bytes.Make(19, 6 * MiB, 5000));
        }

        var act = async () => await (await Store.OpenReadAsync(upload, 0, 100, Ct)).DisposeAsync();
        await act.Should().ThrowAsync<NotSupportedException>("S3 cannot read parts of a multipart upload before it is completed");
    }

    [Theory]
    [InlineData(new[] { 2, 9 }, 5 * 1024 * 1024)] // uploaded over, and one beyond the end
    [InlineData(new[] { 8, 9 }, 100_000)] // small ones beyond the end
    public async Task AppendAsync_CrashAfterPartsBeforeTheRecord_CountsOnlyCommittedBytes(int[] leftOverParts, int leftOverSize)
    {
        var upload = await CreateAsync(30 * MiB);
        upload = await AppendAsync(upload, seed: 20, 6 * MiB);

        // A crash after parts were uploaded but before their record: the record counts part 1 only.
        var info = await Client.GetObjectAsync(Bucket, Prefix + upload.Id + ".info", Ct);
        using var reader = new StreamReader(info.ResponseStream);
        var multipartId = System.Text.Json.JsonDocument.Parse(await reader.ReadToEndAsync(Ct)).RootElement.GetProperty("multipartUploadId").GetString();
        foreach (var number in leftOverParts)
        {
            await Client.UploadPartAsync(new UploadPartRequest { BucketName = Bucket, Key = Prefix + upload.Id, UploadId = multipartId, PartNumber = number, InputStream = new MemoryStream(new byte[leftOverSize]), UseChunkEncoding = false }, Ct);
        }

        var after = await Store.GetAsync(upload.Id, Ct);
        after!.Offset.Should().Be(6 * MiB, "parts no record counts are not part of the upload");
        after = await AppendAsync(after, seed: 20, 24 * MiB);

        after.IsComplete.Should().BeTrue();
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", 30 * MiB)], "the final object holds exactly the upload's bytes");
        await AssertDataAsync(after, seed: 20, 30 * MiB);
        (await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix }, Ct)).MultipartUploads.Should().BeNullOrEmpty();
    }

    [Fact]
    public async Task SetLengthAsync_WithLeftOverParts_CompletesWithExactlyTheUploadsBytes()
    {
        var upload = await CreateAsync(length: null);
        upload = await AppendAsync(upload, seed: 21, (6 * MiB) + 300);
        var info = await Client.GetObjectAsync(Bucket, Prefix + upload.Id + ".info", Ct);
        using var reader = new StreamReader(info.ResponseStream);
        var multipartId = System.Text.Json.JsonDocument.Parse(await reader.ReadToEndAsync(Ct)).RootElement.GetProperty("multipartUploadId").GetString();
        await Client.UploadPartAsync(new UploadPartRequest { BucketName = Bucket, Key = Prefix + upload.Id, UploadId = multipartId, PartNumber = 2, InputStream = new MemoryStream(new byte[5 * MiB]), UseChunkEncoding = false }, Ct);

        upload = await ((ITusStore)Store).DeferredLength!.SetLengthAsync(upload, upload.Offset, Ct);

        upload.IsComplete.Should().BeTrue();
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", (6 * MiB) + 300)]);
        await AssertDataAsync(upload, seed: 21, (6 * MiB) + 300);
    }
}
