using System.Text;
using Tus.Conformance.Internal;
using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The core store contract (<see cref="ITusStore"/>): creating uploads, describing them, appending at their offset
/// across many calls, large data with bounded memory, metadata kept byte for byte, not-found semantics, parallel use,
/// and appends that break off or are cancelled keeping exactly what they wrote. Every store must pass it.
/// </summary>
/// <remarks>
/// <see cref="AppendAsync_LargeNonSeekableStream_StreamsWithBoundedMemory"/> measures the allocations of the whole
/// process; put your subclass in an xunit collection with <c>DisableParallelization = true</c> so that other tests do
/// not add to the count (the test also takes the best of three attempts).
/// </remarks>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class StoreConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>The size of the large append: 64 MiB.</summary>
    public const long LargeDataSize = 64L * 1024 * 1024;

    /// <summary>
    /// The most the process may allocate on the managed heap while the store appends <see cref="LargeDataSize"/> bytes:
    /// 16 MiB, a quarter of the data. Buffers of a few megabytes pass; holding the body (or a copy of it) in memory fails.
    /// </summary>
    public const long LargeDataAllocationBudget = 16L * 1024 * 1024;

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected StoreConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>A new upload comes back as asked for, with an offset of zero.</summary>
    [Fact]
    public virtual async Task CreateAsync_NewUpload_ReturnsItWithOffsetZero()
    {
        var request = NewUpload(1234);

        var created = await Store.CreateAsync(request, Ct);

        Assert.Equal(request.Id, created.Id);
        Assert.Equal(1234, created.Length);
        Assert.Equal(0, created.Offset);
        Assert.Null(created.Concatenation);
        Assert.False(created.IsComplete);
    }

    /// <summary>GetAsync describes a new upload as it was created: id, length, offset zero, creation time, no expiry.</summary>
    [Fact]
    public virtual async Task GetAsync_CreatedUpload_DescribesItAsCreated()
    {
        var request = NewUpload(1234) with { Metadata = UploadMetadata.Create([new("name", "a.bin"u8.ToArray())]) };
        await Store.CreateAsync(request, Ct);

        var upload = await GetExistingAsync(request.Id);

        Assert.Equal(1234, upload.Length);
        Assert.Equal(0, upload.Offset);
        Assert.Null(upload.Concatenation);
        Assert.Null(upload.ExpiresAt);
        Assert.True(upload.CreatedAt == CreatedAt, $"GetAsync returned the creation time {upload.CreatedAt:O} instead of {CreatedAt:O}.");
        AssertMetadataEqual(request.Metadata, upload.Metadata, "GetAsync");
    }

    /// <summary>GetAsync returns null for an id no upload has.</summary>
    [Fact]
    public virtual async Task GetAsync_UnknownId_ReturnsNull()
    {
        await CreateUploadAsync(10);

        var upload = await Store.GetAsync(UploadId.New(), Ct);

        Assert.Null(upload);
    }

    /// <summary>Creating an upload under a taken id throws <see cref="UploadAlreadyExistsException"/>.</summary>
    [Fact]
    public virtual async Task CreateAsync_ExistingId_ThrowsUploadAlreadyExists()
    {
        var first = await CreateUploadAsync(10);

        var exception = await Assert.ThrowsAsync<UploadAlreadyExistsException>(async () => await Store.CreateAsync(NewUpload(20) with { Id = first.Id }, Ct));

        Assert.Equal(first.Id, exception.UploadId);
    }

    /// <summary>A failed creation under a taken id changes nothing about the upload that has it.</summary>
    [Fact]
    public virtual async Task CreateAsync_ExistingId_LeavesTheExistingUploadUntouched()
    {
        var metadata = UploadMetadata.Create([new("owner", "first"u8.ToArray())]);
        var first = await Store.CreateAsync(NewUpload(100) with { Metadata = metadata }, Ct);
        first = await AppendPatternAsync(first, seed: 1, 40);

        try
        {
            await Store.CreateAsync(NewUpload(5000) with { Id = first.Id }, Ct);
        }
        catch (UploadAlreadyExistsException)
        {
            // Expected; CreateAsync_ExistingId_ThrowsUploadAlreadyExists checks that it is thrown.
        }

        var kept = await GetExistingAsync(first.Id);
        Assert.Equal(100, kept.Length);
        Assert.Equal(40, kept.Offset);
        AssertMetadataEqual(metadata, kept.Metadata, "GetAsync");
        await AssertDataIsPatternAsync(kept, seed: 1, 40);
    }

    /// <summary>An upload of length zero is complete as soon as it exists.</summary>
    [Fact]
    public virtual async Task CreateAsync_ZeroLength_IsCompleteAtOnce()
    {
        var created = await CreateUploadAsync(0);

        var upload = await GetExistingAsync(created.Id);

        Assert.True(created.IsComplete, "CreateAsync returned an upload of length 0 that is not complete.");
        Assert.True(upload.IsComplete, "GetAsync describes an upload of length 0 as not complete.");
        Assert.Empty(await ReadAsync(upload, 0, 0));
    }

    /// <summary>
    /// Creations with distinct ids all succeed when they run at the same time (ids come from the engine, so the store
    /// only has to keep them apart).
    /// </summary>
    [Fact]
    public virtual async Task CreateAsync_ParallelWithDistinctIds_AllSucceed()
    {
        const int count = 24;

        // Started one after the other without waiting, so calls overlap wherever the store awaits...
        var inline = Enumerable.Range(0, count).Select(_ => CreateInTaskAsync(NewUpload(7))).ToArray();

        // ...and released together on thread-pool threads, so synchronous stores race too.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pooled = Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
        {
            await gate.Task;
            return await Store.CreateAsync(NewUpload(7), Ct);
        })).ToArray();
        gate.SetResult();

        var created = await Task.WhenAll(inline.Concat(pooled));

        Assert.Equal(2 * count, created.Select(u => u.Id).Distinct(StringComparer.Ordinal).Count());
        foreach (var upload in created)
        {
            var stored = await GetExistingAsync(upload.Id);
            Assert.Equal(7, stored.Length);
            Assert.Equal(0, stored.Offset);
        }
    }

    /// <summary>Of several creations of the same id at the same time, exactly one succeeds; the others throw
    /// <see cref="UploadAlreadyExistsException"/>.</summary>
    [Fact]
    public virtual async Task CreateAsync_ParallelWithTheSameId_ExactlyOneSucceeds()
    {
        const int count = 12;
        var inlineId = UploadId.New();
        var inline = Enumerable.Range(0, count).Select(i => CreateInTaskAsync(NewUpload(10 + i) with { Id = inlineId })).ToArray();
        await AssertExactlyOneCreatedAsync(inline, inlineId);

        var pooledId = UploadId.New();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pooled = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            return await Store.CreateAsync(NewUpload(10 + i) with { Id = pooledId }, Ct);
        })).ToArray();
        gate.SetResult();
        await AssertExactlyOneCreatedAsync(pooled, pooledId);
    }

    /// <summary>
    /// Metadata comes back byte for byte and in order, from both CreateAsync and GetAsync: non-ASCII text, bytes that
    /// are not UTF-8 at all (including zero bytes), an empty value, a value with commas and spaces, and a large value.
    /// </summary>
    [Fact]
    public virtual async Task Metadata_NonAsciiAndBinaryValues_RoundTripExactly()
    {
        var large = new byte[16 * 1024];
        Pattern.Fill(large, seed: 3, 0);
        var metadata = UploadMetadata.Create(
        [
            new("filename", Encoding.UTF8.GetBytes("Résumé – 日本語 🎉.txt")),
            new("binary", new byte[] { 0x00, 0xFF, 0xFE, 0x80, 0xC3, 0x28, 0x00, 0x0A, 0x0D, 0x7F }),
            new("empty", ReadOnlyMemory<byte>.Empty),
            new("text", "a,b c;d=e\"f"u8.ToArray()),
            new("Zeta", "upper-case key, listed after lower-case ones"u8.ToArray()),
            new("large", large),
            new("alpha", "sent last, kept last"u8.ToArray()),
        ]);

        var created = await Store.CreateAsync(NewUpload(1) with { Metadata = metadata }, Ct);
        var stored = await GetExistingAsync(created.Id);

        AssertMetadataEqual(metadata, created.Metadata, "CreateAsync");
        AssertMetadataEqual(metadata, stored.Metadata, "GetAsync");
    }

    /// <summary>
    /// Appends at increasing offsets, over many calls of varied sizes and read patterns, each return the count they
    /// appended, move the offset by it, and read back as one contiguous upload in order.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_ManyCallsAtIncreasingOffsets_AccumulatesInOrder()
    {
        (long Count, int MaxRead)[] chunks = [(1, 1), (4095, 1000), (4097, 4097), (65536, 65536), (65537, 7000), (300_001, 128 * 1024), (7, 3)];
        var total = chunks.Sum(c => c.Count);
        var upload = await CreateUploadAsync(total);

        foreach (var (count, maxRead) in chunks)
        {
            Assert.False(upload.IsComplete, $"The upload reads as complete at offset {upload.Offset} of {total}.");
            upload = await AppendPatternAsync(upload, seed: 5, count, maxRead);
        }

        Assert.True(upload.IsComplete, $"The upload does not read as complete after all {total} bytes were appended.");
        await AssertDataIsPatternAsync(upload, seed: 5, total);
    }

    /// <summary>Appending an empty stream returns 0 and leaves the upload as it was.</summary>
    [Fact]
    public virtual async Task AppendAsync_EmptyStream_ReturnsZeroAndKeepsTheOffset()
    {
        var upload = await AppendPatternAsync(await CreateUploadAsync(100), seed: 2, 30);

        var appended = await Store.AppendAsync(upload, new GeneratedStream(2, 30, 0), Ct);

        Assert.Equal(0, appended);
        var after = await GetExistingAsync(upload.Id);
        Assert.Equal(30, after.Offset);
        await AssertDataIsPatternAsync(after, seed: 2, 30);
    }

    /// <summary>
    /// A body that ends before the upload's length (the client broke off) is kept in full and reported exactly: the
    /// count returned, the offset, and the data read back; the next append continues from there.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_StreamEndingEarly_KeepsAndReportsWhatArrived()
    {
        const long length = 1024 * 1024;
        const long arrived = 100_003;
        var upload = await CreateUploadAsync(length);

        var appended = await Store.AppendAsync(upload, new GeneratedStream(4, 0, arrived) { MaxRead = 8192 }, Ct);

        Assert.Equal(arrived, appended);
        var after = await GetExistingAsync(upload.Id);
        Assert.Equal(arrived, after.Offset);
        await AssertDataIsPatternAsync(after, seed: 4, arrived);

        var resumed = await AppendPatternAsync(after, seed: 4, length - arrived);
        Assert.True(resumed.IsComplete, "The upload is not complete after the rest of its bytes were appended.");
        await AssertDataIsPatternAsync(resumed, seed: 4, length);
    }

    /// <summary>
    /// Appends whose token is cancelled midway, at odd offsets (after 1, 4095, 65,537, 100,003 and 524,288 bytes), whether
    /// they return or throw, leave the upload reporting exactly the bytes they persisted: the offset never exceeds what
    /// the body gave, the data up to it is the body's, and an append of the rest from that offset completes the upload.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_CancelledMidway_ReportsExactlyWhatItPersisted()
    {
        const long length = 1024 * 1024;
        foreach (var cancelAfter in OddOffsets)
        {
            var upload = await CreateUploadAsync(length);
            using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var source = new GeneratedStream(6, 0, length) { MaxRead = 16 * 1024, CancelAfter = cancelAfter, CancelSource = abandon };

            long? returned = null;
            try
            {
                returned = await Store.AppendAsync(upload, source, abandon.Token);
            }
            catch (OperationCanceledException) when (abandon.IsCancellationRequested && !Ct.IsCancellationRequested)
            {
                // Allowed: the write was abandoned. What it persisted must still be reported.
            }

            await AssertKeptExactlyAsync(upload, seed: 6, source.Delivered, returned, $"an append cancelled after {cancelAfter} bytes");
        }
    }

    /// <summary>
    /// Appends whose data stream fails midway with an exception other than a cancellation (an <see cref="IOException"/>,
    /// an <see cref="InvalidOperationException"/>), at odd offsets, leave the upload reporting exactly what the store kept:
    /// GetAsync's offset is at most what the stream gave, every byte up to it reads back as sent, and an append from that
    /// offset completes the upload. (The engine does not guess what a failed append kept: it asks GetAsync.)
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_DataThrowsMidway_ReportsExactlyWhatItKept()
    {
        const long length = 1024 * 1024;
        var attempt = 0;
        foreach (var failAfter in OddOffsets)
        {
            var upload = await CreateUploadAsync(length);
            Exception failure = attempt++ % 2 == 0 ? new IOException("The body source broke.") : new InvalidOperationException("The body source broke.");
            var source = new GeneratedStream(9, 0, length) { MaxRead = 16 * 1024, FailAfter = failAfter, Failure = failure };

            long? returned = null;
            try
            {
                returned = await Store.AppendAsync(upload, source, Ct);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !Ct.IsCancellationRequested)
            {
                // Expected: the stream threw. What the store kept must still be reported exactly.
            }

            await AssertKeptExactlyAsync(upload, seed: 9, failAfter, returned, $"an append whose data threw {failure.GetType().Name} after {failAfter} bytes");
        }
    }

    /// <summary>
    /// Whatever <see cref="UploadInfo.StoreState"/> GetAsync returns is accepted back unchanged, as the engine hands it
    /// along within a request: by AppendAsync, again by AppendAsync given an info derived with <c>with { Offset = ... }</c>
    /// after the first append, by the capability calls (set length, set expiry, discard) and by OpenReadAsync; and a new
    /// lookup afterwards describes the upload exactly.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_StoreStateCarriedAlong_IsAcceptedBack()
    {
        const long length = 30_000;
        var deferred = Store.DeferredLength is not null;
        var created = await CreateUploadAsync(deferred ? null : length);
        var upload = await GetExistingAsync(created.Id);

        var first = await Store.AppendAsync(upload, new GeneratedStream(13, 0, 10_000), Ct);
        Assert.True(first == 10_000, $"AppendAsync returned {first} for 10000 bytes.");
        upload = upload with { Offset = upload.Offset + first, FencingToken = 7 };
        var second = await Store.AppendAsync(upload, new GeneratedStream(13, 10_000, 7_001) { MaxRead = 1000 }, Ct);
        Assert.True(second == 7_001, $"AppendAsync, given the upload derived with 'with {{ Offset = 10000 }}' from the one GetAsync returned, returned {second} for 7001 bytes.");
        upload = upload with { Offset = upload.Offset + second };
        if (Store.DeferredLength is { } deferredLength)
        {
            upload = await deferredLength.SetLengthAsync(upload, length, Ct);
        }

        if (Store.Expiration is { } expiration)
        {
            upload = await expiration.SetExpiryAsync(upload, CreatedAt.AddDays(3), Ct);
        }

        if (Store.Checksum is { } checksum)
        {
            var extra = await Store.AppendAsync(upload, new GeneratedStream(99, 17_001, 999), Ct);
            upload = await checksum.DiscardFromAsync(upload with { Offset = upload.Offset + extra }, 17_001, Ct);
        }

        Assert.True(upload.Offset == 17_001, $"The upload reads offset {upload.Offset} after 17001 bytes were appended.");
        var data = await ReadAsync(upload, 0, 17_001);
        Assert.True(data.Length == 17_001 && Pattern.FirstMismatch(data, 13, 0) < 0, "OpenReadAsync, given the upload as the store last returned it, did not return the bytes appended.");

        var fresh = await GetExistingAsync(upload.Id);
        Assert.True(fresh.Offset == 17_001, $"GetAsync reports offset {fresh.Offset} after 17001 bytes were appended.");
        var completed = await AppendPatternAsync(fresh, seed: 13, length - 17_001);
        Assert.True(completed.IsComplete, "The upload is not complete after all its bytes were appended.");
        await AssertDataIsPatternAsync(completed, seed: 13, length);
    }

    /// <summary>Appends to different uploads at the same time, with interleaving reads, each keep their own bytes.</summary>
    [Fact]
    public virtual async Task AppendAsync_DifferentUploadsInParallel_EachKeepsItsOwnBytes()
    {
        const int uploads = 8;
        const long length = 256 * 1024;
        var created = new UploadInfo[uploads];
        for (var i = 0; i < uploads; i++)
        {
            created[i] = await CreateUploadAsync(length);
        }

        var appends = created.Select((upload, i) => Task.Run(async () =>
            await Store.AppendAsync(upload, new GeneratedStream(10 + i, 0, length) { MaxRead = 8192 + (i * 512), PaceReads = true }, Ct)));
        var counts = await Task.WhenAll(appends);

        Assert.All(counts, count => Assert.Equal(length, count));
        for (var i = 0; i < uploads; i++)
        {
            var stored = await GetExistingAsync(created[i].Id);
            Assert.Equal(length, stored.Offset);
            await AssertDataIsPatternAsync(stored, seed: 10 + i, length);
        }
    }

    /// <summary>
    /// Appending <see cref="LargeDataSize"/> bytes from a non-seekable stream allocates less than
    /// <see cref="LargeDataAllocationBudget"/> on the managed heap (measured with <see cref="GC.GetTotalAllocatedBytes"/>,
    /// best of three attempts), and the data reads back intact.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_LargeNonSeekableStream_StreamsWithBoundedMemory()
    {
        var best = long.MaxValue;
        UploadInfo? last = null;
        for (var attempt = 0; attempt < 3 && best >= LargeDataAllocationBudget; attempt++)
        {
            var upload = await CreateUploadAsync(LargeDataSize);
            var source = new GeneratedStream(7, 0, LargeDataSize);

            var before = GC.GetTotalAllocatedBytes(precise: true);
            var appended = await Store.AppendAsync(upload, source, Ct);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

            Assert.Equal(LargeDataSize, appended);
            best = Math.Min(best, allocated);
            last = upload;
        }

        Assert.True(
            best < LargeDataAllocationBudget,
            $"Appending {LargeDataSize >> 20} MiB allocated {best >> 20} MiB on the managed heap (best of three), more than the budget of {LargeDataAllocationBudget >> 20} MiB: the body must be streamed to storage, not held in memory.");
        var stored = await GetExistingAsync(last!.Id);
        Assert.True(stored.IsComplete, "The large upload is not complete after all its bytes were appended.");
        await AssertDataIsPatternAsync(stored, seed: 7, LargeDataSize);
    }

    /// <summary>Appends change the offset and nothing else: length, metadata and creation time stay as created.</summary>
    [Fact]
    public virtual async Task GetAsync_AfterAppends_KeepsLengthMetadataAndCreationTime()
    {
        var metadata = UploadMetadata.Create([new("filename", "kept.bin"u8.ToArray()), new("raw", new byte[] { 0, 1, 2, 255 })]);
        var upload = await Store.CreateAsync(NewUpload(50) with { Metadata = metadata }, Ct);

        upload = await AppendPatternAsync(upload, seed: 8, 20);
        upload = await AppendPatternAsync(upload, seed: 8, 30);

        Assert.Equal(50, upload.Length);
        Assert.True(upload.CreatedAt == CreatedAt, $"GetAsync returned the creation time {upload.CreatedAt:O} instead of {CreatedAt:O} after appends.");
        AssertMetadataEqual(metadata, upload.Metadata, "GetAsync after appends");
        Assert.True(upload.IsComplete, "The upload is not complete after all its bytes were appended.");
    }

    /// <summary>The odd offsets at which the tests break an append off: across no, one and several buffers of common sizes.</summary>
    private static readonly long[] OddOffsets = [1, 4095, 65_537, 100_003, 524_288];

    private async Task AssertKeptExactlyAsync(UploadInfo upload, int seed, long delivered, long? returned, string what)
    {
        var after = await GetExistingAsync(upload.Id);
        Assert.True(after.Offset >= 0 && after.Offset <= delivered, $"GetAsync reports offset {after.Offset} after {what}, which was given {delivered} bytes.");
        if (returned is { } count)
        {
            Assert.True(count == after.Offset, $"AppendAsync returned {count} for {what}, but GetAsync reports offset {after.Offset}.");
        }

        await AssertDataIsPatternAsync(after, seed, after.Offset);
        var completed = await AppendPatternAsync(after, seed, upload.Length!.Value - after.Offset);
        Assert.True(completed.IsComplete, $"The upload is not complete after the rest of its bytes were appended following {what}.");
        await AssertDataIsPatternAsync(completed, seed, upload.Length.Value);
    }

    private async Task<UploadInfo> CreateInTaskAsync(NewUpload upload) => await Store.CreateAsync(upload, Ct);

    private async Task AssertExactlyOneCreatedAsync(Task<UploadInfo>[] attempts, string id)
    {
        var succeeded = 0;
        var conflicts = 0;
        foreach (var attempt in attempts)
        {
            try
            {
                await attempt;
                succeeded++;
            }
            catch (UploadAlreadyExistsException)
            {
                conflicts++;
            }
        }

        Assert.True(succeeded == 1, $"{succeeded} of {attempts.Length} simultaneous creations of the same id succeeded; exactly one must.");
        Assert.Equal(attempts.Length - 1, conflicts);
        var stored = await GetExistingAsync(id);
        Assert.Equal(0, stored.Offset);
    }
}
