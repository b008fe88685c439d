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
        for (var i = 0; i < 40; i++)
        {
            upload = await AppendAsync(upload, seed: 1, MiB);

            // Every piece but the last is at least the minimum part size: small tails are joined, not kept.
            var objects = await DataObjectsAsync(upload.Id);
            objects.Sum(o => o.Size).Should().Be(upload.Offset, "the data objects hold exactly the offset's bytes");
            objects.OrderBy(o => o.Key, StringComparer.Ordinal).SkipLast(1).All(o => o.Size >= 5 * MiB).Should().BeTrue("every piece but the last is at least 5 MiB");
        }

        upload.IsComplete.Should().BeTrue();
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", length)], "a complete upload is one object, with no pieces left");
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
        upload = await AppendAsync(upload, seed: 3, 7 * MiB);
        (await DataObjectsAsync(upload.Id)).Should().HaveCount(2);

        upload = await ((ITusStore)Store).DeferredLength!.SetLengthAsync(upload, 13 * MiB, Ct);

        upload.IsComplete.Should().BeTrue();
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", 13 * MiB)]);
        await AssertDataAsync(upload, seed: 3, 13 * MiB);
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
        var orphan = await Client.InitiateMultipartUploadAsync(Bucket, Prefix + upload.Id + ".seg.0000000000012582912", Ct);

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
        (await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix }, Ct)).MultipartUploads.Should().BeNullOrEmpty();
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

    [Fact]
    public async Task DiscardFromAsync_AfterAChecksumFailedAppend_RestoresTheObjectsExactly()
    {
        var upload = await CreateAsync(30 * MiB);
        upload = await AppendAsync(upload, seed: 7, 6 * MiB);
        upload = await AppendAsync(upload, seed: 7, MiB); // a small tail the next append joins
        var before = await DataObjectsAsync(upload.Id);

        // The engine's view of a PATCH whose checksum does not match: the append, then a discard from its start.
        var appended = await Store.AppendAsync(upload, new PatternStream(99, upload.Offset, 8 * MiB), Ct);
        var restored = await ((ITusStore)Store).Checksum!.DiscardFromAsync(upload with { Offset = upload.Offset + appended }, upload.Offset, Ct);

        restored.Offset.Should().Be(7 * MiB);
        (await DataObjectsAsync(upload.Id)).Should().BeEquivalentTo(before, "no byte of the unverified request is left in S3");
        var fresh = await Store.GetAsync(upload.Id, Ct);
        fresh!.Offset.Should().Be(7 * MiB);
        await AssertDataAsync(fresh, seed: 7, 7 * MiB);
        var multipart = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix }, Ct);
        (multipart.MultipartUploads ?? []).Should().BeEmpty();
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
        (await DataObjectsAsync(upload.Id)).Should().Equal([("", 6 * MiB)]);
        await AssertDataAsync(restored, seed: 8, 6 * MiB);
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
    public async Task OpenReadAsync_RangeAcrossPieces_ReturnsExactlyThoseBytes()
    {
        var upload = await CreateAsync(20 * MiB);
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
}
