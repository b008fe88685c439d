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
    /// Appends whose token is cancelled midway, at many offsets (odd ones, and ones just off the common buffer sizes) and
    /// with reads of several sizes, whether they return or throw, keep every byte the body gave before the cancellation:
    /// GetAsync reports exactly that many bytes, they read back as sent, the count returned (if any) is that offset, and
    /// an append of the rest from there completes the upload. (A store that fills a buffer before writing must write the
    /// part it filled when it is interrupted.)
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_CancelledMidway_ReportsExactlyWhatItPersisted()
    {
        const long length = 1024 * 1024;
        var attempt = 0;
        foreach (var cancelAfter in InterruptionOffsets)
        {
            var maxRead = ReadSizes[attempt++ % ReadSizes.Length];
            var upload = await CreateUploadAsync(length);
            using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var source = new GeneratedStream(6, 0, length) { MaxRead = maxRead, CancelAfter = cancelAfter, CancelSource = abandon };

            long? returned = null;
            try
            {
                returned = await Store.AppendAsync(upload, source, abandon.Token);
            }
            catch (OperationCanceledException) when (abandon.IsCancellationRequested && !Ct.IsCancellationRequested)
            {
                // Allowed: the write was abandoned. What it received must still be kept and reported.
            }

            var what = $"an append to upload '{upload.Id}' cancelled after {cancelAfter} bytes (reads of {maxRead} bytes)";
            var after = await GetExistingAsync(upload.Id);
            Assert.True(
                after.Offset == source.Delivered,
                $"GetAsync reports offset {after.Offset} after {what}; the body gave {source.Delivered} bytes before the token fired, and every one must be kept " +
                $"({(after.Offset < source.Delivered ? $"{source.Delivered - after.Offset} bytes received were dropped: write a partly filled buffer before giving up" : "more than the body gave")}).");
            await AssertKeptExactlyAsync(upload, seed: 6, source.Delivered, returned, what);
        }
    }

    /// <summary>
    /// An append whose token fires while its body keeps giving bytes (a body that does not itself honour the token) stops
    /// promptly, within 16 MiB, instead of reading to the end: a store passes its token to every read and write. What it
    /// reports afterwards is exactly what it can read back, and includes every byte given before the token fired.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_TokenFiresWhileDataKeepsComing_StopsPromptly()
    {
        const long length = 1L << 30;
        const long cancelAfter = 100_003;
        const long bound = 16L * 1024 * 1024;
        var upload = await CreateUploadAsync(length);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var source = new GeneratedStream(15, 0, length) { MaxRead = 8192, CancelAfter = cancelAfter, CancelSource = abandon, IgnoreToken = true, EndAfter = cancelAfter + bound };

        long? returned = null;
        try
        {
            returned = await Store.AppendAsync(upload, source, abandon.Token);
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested && !Ct.IsCancellationRequested)
        {
            // Expected: the write was abandoned.
        }

        Assert.True(
            source.Delivered < cancelAfter + bound,
            $"AppendAsync to upload '{upload.Id}' read {source.Delivered} bytes, {source.Delivered - cancelAfter} of them after its token fired at byte {cancelAfter}: " +
            "it does not watch its cancellation token (pass it to every read of the data and every write to storage).");
        var after = await GetExistingAsync(upload.Id);
        Assert.True(
            after.Offset >= cancelAfter && after.Offset <= source.Delivered,
            $"GetAsync reports offset {after.Offset} for upload '{upload.Id}' after an append cancelled at byte {cancelAfter}, which read {source.Delivered} bytes in all; it must keep at least the {cancelAfter} given before the token fired.");
        if (returned is { } count)
        {
            Assert.True(count == after.Offset, $"AppendAsync returned {count} for upload '{upload.Id}' after its token fired, but GetAsync reports offset {after.Offset}.");
        }

        await AssertDataIsPatternAsync(after, seed: 15, after.Offset);
    }

    /// <summary>
    /// Every call given a token that has fired already throws <see cref="OperationCanceledException"/> and changes
    /// nothing: CreateAsync creates no upload, GetAsync, AppendAsync (which keeps no byte) and OpenReadAsync throw, and so
    /// do the calls of every capability the store declares (delete, concatenate, set length, set expiry, remove, discard).
    /// OpenReadAsync is left out when the fixture cannot read unfinished uploads (the upload here is unfinished).
    /// </summary>
    [Fact]
    public virtual async Task AllCalls_TokenAlreadyCancelled_ThrowAndChangeNothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;
        var upload = await AppendPatternAsync(await CreateUploadAsync(Store.DeferredLength is null ? 1000 : null), seed: 16, 100);

        var request = NewUpload(10);
        await AssertCancelledAsync("CreateAsync", request.Id, () => Store.CreateAsync(request, token).AsTask());
        Assert.True(await Store.GetAsync(request.Id, Ct) is null, $"CreateAsync with a cancelled token threw, yet created upload '{request.Id}'.");
        await AssertCancelledAsync("GetAsync", upload.Id, () => Store.GetAsync(upload.Id, token).AsTask());
        var source = new GeneratedStream(16, 100, 100);
        await AssertCancelledAsync("AppendAsync", upload.Id, () => Store.AppendAsync(upload, source, token).AsTask());
        if (CanReadData(upload))
        {
            await AssertCancelledAsync("OpenReadAsync", upload.Id, async () => await (await Store.OpenReadAsync(upload, 0, 100, token)).DisposeAsync());
        }

        if (Store.DeferredLength is { } deferred)
        {
            await AssertCancelledAsync("SetLengthAsync", upload.Id, () => deferred.SetLengthAsync(upload, 1000, token).AsTask());
        }

        if (Store.Expiration is { } expiration)
        {
            await AssertCancelledAsync("SetExpiryAsync", upload.Id, () => expiration.SetExpiryAsync(upload, CreatedAt.AddDays(9), token).AsTask());
            await AssertCancelledAsync("RemoveExpiredAsync", upload.Id, () => expiration.RemoveExpiredAsync(upload.Id, token).AsTask());
        }

        if (Store.Checksum is { } checksum)
        {
            await AssertCancelledAsync("DiscardFromAsync", upload.Id, () => checksum.DiscardFromAsync(upload, 50, token).AsTask());
        }

        if (Store.Termination is { } termination)
        {
            await AssertCancelledAsync("DeleteAsync", upload.Id, () => termination.DeleteAsync(upload.Id, token).AsTask());
        }

        var after = await GetExistingAsync(upload.Id);
        Assert.True(after.Offset == 100, $"GetAsync reports offset {after.Offset} for upload '{upload.Id}' after calls with a cancelled token; they must change nothing (it was 100).");
        Assert.True(after.Length == upload.Length, $"GetAsync reports length {after.Length?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "deferred"} for upload '{upload.Id}' after SetLengthAsync was called with a cancelled token.");
        Assert.True(after.ExpiresAt == upload.ExpiresAt, $"GetAsync reports the expiry {FormatTime(after.ExpiresAt)} for upload '{upload.Id}' after SetExpiryAsync was called with a cancelled token.");
        await AssertDataIsPatternAsync(after, seed: 16, 100);
        if (Store.Concatenation is { } concatenation)
        {
            var partial = await Store.CreateAsync(NewUpload(10) with { Concatenation = UploadConcatenation.Partial }, Ct);
            partial = await AppendPatternAsync(partial, seed: 17, 10);
            var final = await Store.CreateAsync(NewUpload(10) with { Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);
            await AssertCancelledAsync("ConcatenateAsync", final.Id, () => concatenation.ConcatenateAsync(final, [partial], token).AsTask());
            var finalAfter = await GetExistingAsync(final.Id);
            Assert.True(finalAfter.Offset == 0, $"ConcatenateAsync with a cancelled token left final upload '{final.Id}' at offset {finalAfter.Offset}; it must stay empty.");
        }
    }

    /// <summary>
    /// Every method given an upload that no longer exists throws <see cref="UploadNotFoundException"/> naming it, whether
    /// the upload it is given carries the <see cref="UploadInfo.StoreState"/> of an earlier lookup or none at all (an
    /// engine in another process, or a listing, described it): AppendAsync, OpenReadAsync and the calls of every declared
    /// capability, including ConcatenateAsync for a missing partial or final upload. GetAsync returns null. The upload is
    /// removed through termination (or else expiration); a store that can remove no upload reports the test skipped.
    /// OpenReadAsync is left out when the fixture cannot read unfinished uploads (the upload removed was unfinished).
    /// </summary>
    [Fact]
    public virtual async Task AllCalls_RemovedUpload_ThrowUploadNotFound()
    {
        if (Store.Termination is null && Store.Expiration is null)
        {
            Assert.Skip("The store declares neither termination nor expiration, so no upload can stop existing.");
        }

        var upload = await AppendPatternAsync(await CreateUploadAsync(Store.DeferredLength is null ? 1000 : null), seed: 18, 100);
        Assert.True(await TryRemoveUploadAsync(upload.Id));
        Assert.True(await Store.GetAsync(upload.Id, Ct) is null, $"GetAsync found upload '{upload.Id}' after it was removed; it must return null.");

        foreach (var (given, how) in new[] { (upload, "with the store state of an earlier lookup"), (upload with { StoreState = null }, "without store state") })
        {
            await AssertThrowsUploadNotFoundAsync(upload.Id, $"AppendAsync {how}", () => Store.AppendAsync(given, new GeneratedStream(18, 100, 10), Ct).AsTask());
            if (CanReadData(upload))
            {
                await AssertThrowsUploadNotFoundAsync(upload.Id, $"OpenReadAsync {how}", async () => await (await Store.OpenReadAsync(given, 0, 100, Ct)).DisposeAsync());
            }

            if (Store.DeferredLength is { } deferred)
            {
                await AssertThrowsUploadNotFoundAsync(upload.Id, $"SetLengthAsync {how}", () => deferred.SetLengthAsync(given, 1000, Ct).AsTask());
            }

            if (Store.Expiration is { } expiration)
            {
                await AssertThrowsUploadNotFoundAsync(upload.Id, $"SetExpiryAsync {how}", () => expiration.SetExpiryAsync(given, CreatedAt.AddDays(2), Ct).AsTask());
            }

            if (Store.Checksum is { } checksum)
            {
                await AssertThrowsUploadNotFoundAsync(upload.Id, $"DiscardFromAsync {how}", () => checksum.DiscardFromAsync(given, 50, Ct).AsTask());
            }
        }

        if (Store.Concatenation is { } concatenation)
        {
            var partial = await Store.CreateAsync(NewUpload(10) with { Concatenation = UploadConcatenation.Partial }, Ct);
            partial = await AppendPatternAsync(partial, seed: 19, 10);
            var final = await Store.CreateAsync(NewUpload(10) with { Concatenation = UploadConcatenation.Final([partial.Id]) }, Ct);
            Assert.True(await TryRemoveUploadAsync(partial.Id));
            await AssertThrowsUploadNotFoundAsync(partial.Id, "ConcatenateAsync given a partial upload that was removed", () => concatenation.ConcatenateAsync(final, [partial with { StoreState = null }], Ct).AsTask());

            var other = await Store.CreateAsync(NewUpload(10) with { Concatenation = UploadConcatenation.Partial }, Ct);
            other = await AppendPatternAsync(other, seed: 20, 10);
            var gone = await Store.CreateAsync(NewUpload(10) with { Concatenation = UploadConcatenation.Final([other.Id]) }, Ct);
            Assert.True(await TryRemoveUploadAsync(gone.Id));
            await AssertThrowsUploadNotFoundAsync(gone.Id, "ConcatenateAsync given a final upload that was removed", () => concatenation.ConcatenateAsync(gone with { StoreState = null }, [other], Ct).AsTask());
        }
    }

    /// <summary>
    /// Upload ids are case-sensitive: two ids that differ only in case name two uploads (a store on a case-insensitive
    /// file system or key space must encode them). The second is not found before it is created, is created without a
    /// conflict, and each keeps its own length, data and existence.
    /// </summary>
    [Fact]
    public virtual async Task GetAsync_IdsDifferingOnlyInCase_AreDistinctUploads()
    {
        var lower = "case-" + UploadId.New().ToLowerInvariant();
        var upper = lower.ToUpperInvariant();
        Assert.NotEqual(lower, upper);
        var first = await Store.CreateAsync(NewUpload(300) with { Id = lower }, Ct);
        first = await AppendPatternAsync(first, seed: 21, 300);

        Assert.True(await Store.GetAsync(upper, Ct) is null, $"GetAsync(\"{upper}\") found an upload although only '{lower}' exists: ids differ only in case, and ids are case-sensitive.");
        var second = await Store.CreateAsync(NewUpload(200) with { Id = upper }, Ct);
        second = await AppendPatternAsync(second, seed: 22, 150);

        var readFirst = await GetExistingAsync(lower);
        var readSecond = await GetExistingAsync(upper);
        Assert.True(readFirst.Length == 300 && readFirst.Offset == 300, $"Upload '{lower}' reads length {readFirst.Length}, offset {readFirst.Offset} (expected 300, 300) after '{upper}' was created and written.");
        Assert.True(readSecond.Length == 200 && readSecond.Offset == 150, $"Upload '{upper}' reads length {readSecond.Length}, offset {readSecond.Offset} (expected 200, 150).");
        await AssertDataIsPatternAsync(readFirst, seed: 21, 300);
        await AssertDataIsPatternAsync(readSecond, seed: 22, 150);
        if (await TryRemoveUploadAsync(upper))
        {
            Assert.True(await Store.GetAsync(upper, Ct) is null, $"GetAsync found upload '{upper}' after it was removed.");
            await AssertDataIsPatternAsync(await GetExistingAsync(lower), seed: 21, 300);
        }
    }

    /// <summary>
    /// An <see cref="UploadInfo"/> is a snapshot the engine and hooks may keep: one returned earlier does not change when
    /// the upload is written or described again, and changing what it exposes (its <see cref="UploadInfo.Storage"/>, when
    /// that is writable) does not change the store. (Its <see cref="UploadInfo.StoreState"/> is exempt: the store owns it.)
    /// </summary>
    [Fact]
    public virtual async Task UploadInfo_Returned_SharesNoMutableStateWithTheStore()
    {
        var metadata = UploadMetadata.Create([new("name", "snapshot.bin"u8.ToArray())]);
        var created = await Store.CreateAsync(NewUpload(1000) with { Metadata = metadata }, Ct);
        var looked = await GetExistingAsync(created.Id);
        var snapshots = new[] { (created, "CreateAsync"), (looked, "GetAsync") }
            .Select(s => (Info: s.Item1, What: s.Item2, Storage: s.Item1.Storage.OrderBy(e => e.Key, StringComparer.Ordinal).ToList(), s.Item1.Offset, s.Item1.Length))
            .ToList();

        var later = await AppendPatternAsync(looked, seed: 23, 300);
        later = await AppendPatternAsync(later, seed: 23, 1);
        await CreateUploadAsync(10);

        foreach (var snapshot in snapshots)
        {
            var now = snapshot.Info.Storage.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            Assert.True(
                now.SequenceEqual(snapshot.Storage),
                $"The Storage of the UploadInfo {snapshot.What} returned for upload '{created.Id}' changed after later appends, from [{string.Join(", ", snapshot.Storage)}] to [{string.Join(", ", now)}]: return a copy, not the store's own dictionary.");
            Assert.True(snapshot.Info.Offset == snapshot.Offset && snapshot.Info.Length == snapshot.Length, $"The UploadInfo {snapshot.What} returned for upload '{created.Id}' changed after later appends.");
            AssertMetadataEqual(metadata, snapshot.Info.Metadata, $"{snapshot.What} (read again after later appends)");
        }

        // The default Storage of UploadInfo (a store that sets none) is Tus.Core's shared, read-only empty dictionary.
        var defaultStorage = new UploadInfo { Id = later.Id }.Storage;
        if (!ReferenceEquals(later.Storage, defaultStorage) && later.Storage is IDictionary<string, string> { IsReadOnly: false } writable)
        {
            var before = (await GetExistingAsync(created.Id)).Storage.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            writable["tampered-by-a-hook"] = "x";
            foreach (var key in writable.Keys.Where(k => k != "tampered-by-a-hook").ToList())
            {
                writable[key] = "tampered";
            }

            var after = (await GetExistingAsync(created.Id)).Storage.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            Assert.True(
                after.SequenceEqual(before),
                $"Changing the Storage dictionary of an UploadInfo returned for upload '{created.Id}' changed what GetAsync returns afterwards ([{string.Join(", ", after)}]): the store handed out its own mutable state.");
        }

        await AssertDataIsPatternAsync(await GetExistingAsync(created.Id), seed: 23, 301);
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
    /// after the first append, by the capability calls (set length, set expiry, discard) and by OpenReadAsync (unless the
    /// fixture cannot read unfinished uploads); and a new lookup afterwards describes the upload exactly.
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
        if (CanReadData(upload))
        {
            var data = await ReadAsync(upload, 0, 17_001);
            Assert.True(data.Length == 17_001 && Pattern.FirstMismatch(data, 13, 0) < 0, "OpenReadAsync, given the upload as the store last returned it, did not return the bytes appended.");
        }

        var fresh = await GetExistingAsync(upload.Id);
        Assert.True(fresh.Offset == 17_001, $"GetAsync reports offset {fresh.Offset} after 17001 bytes were appended.");
        var completed = await AppendPatternAsync(fresh, seed: 13, length - 17_001);
        Assert.True(completed.IsComplete, "The upload is not complete after all its bytes were appended.");
        await AssertDataIsPatternAsync(completed, seed: 13, length);
    }

    /// <summary>
    /// Appends to many different uploads at the same time, each with its own content, released together and with reads
    /// that interleave, in several chunks and over several rounds, each keep exactly their own bytes. A failure names every
    /// upload that came back wrong and its first bad byte.
    /// </summary>
    [Fact]
    public virtual async Task AppendAsync_DifferentUploadsInParallel_EachKeepsItsOwnBytes()
    {
        const int uploads = 16;
        const int rounds = 3;
        const long chunk = 40_000;
        const int chunks = 3;
        var failures = new List<string>();
        for (var round = 0; round < rounds && failures.Count == 0; round++)
        {
            var created = new UploadInfo[uploads];
            for (var i = 0; i < uploads; i++)
            {
                created[i] = await CreateUploadAsync(chunk * chunks);
            }

            var seedBase = 100 + (round * uploads);
            for (var part = 0; part < chunks; part++)
            {
                var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var appends = created.Select((upload, i) => Task.Run(async () =>
                {
                    await gate.Task;
                    var source = new GeneratedStream(seedBase + i, upload.Offset, chunk) { MaxRead = 4096 + (i * 509), PaceReads = true };
                    try
                    {
                        var count = await Store.AppendAsync(upload, source, Ct);
                        return count == chunk ? null : $"AppendAsync to upload '{upload.Id}' at offset {upload.Offset} (round {round}) returned {count} for {chunk} bytes";
                    }
                    catch (Exception exception) when (!Ct.IsCancellationRequested)
                    {
                        return $"AppendAsync to upload '{upload.Id}' at offset {upload.Offset} (round {round}) threw {exception.GetType().Name}: {exception.Message}";
                    }
                })).ToArray();
                gate.SetResult();
                var results = await Task.WhenAll(appends);
                failures.AddRange(results.OfType<string>());
                for (var i = 0; i < uploads; i++)
                {

                    created[i] = await GetExistingAsync(created[i].Id);
                }
            }

            for (var i = 0; i < uploads; i++)
            {
                var stored = created[i];
                if (stored.Offset != chunk * chunks)
                {
                    failures.Add($"upload '{stored.Id}' (round {round}) reports offset {stored.Offset} instead of {chunk * chunks}");
                    continue;
                }

                var data = await ReadAsync(stored, 0, stored.Offset);
                var mismatch = Pattern.FirstMismatch(data, seedBase + i, 0);
                if (mismatch >= 0)
                {
                    failures.Add($"upload '{stored.Id}' (round {round}, upload {i} of {uploads}) holds a wrong byte at offset {mismatch}: {Pattern.DescribeMismatch(data, seedBase + i, 0, mismatch)}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"Appends to different uploads running in parallel mixed their data:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
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

    /// <summary>The offsets at which the cancellation tests break an append off: odd ones, and ones on and just off the
    /// common buffer sizes (4 KiB, 64 KiB, 80 KiB, 128 KiB, 1 MiB minus a little).</summary>
    private static readonly long[] InterruptionOffsets = [1, 7, 4095, 4096, 4097, 65_535, 65_536, 65_537, 81_921, 100_003, 131_071, 131_073, 524_288, 777_777, 1_000_001];

    /// <summary>The most bytes one read of the body returns, varied across the cancellation attempts.</summary>
    private static readonly int[] ReadSizes = [16 * 1024, 1000, 65_536, 8191];

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

    private static async Task AssertCancelledAsync(string what, string uploadId, Func<Task> call)
    {
        var exception = await Record.ExceptionAsync(call);
        Assert.True(
            exception is OperationCanceledException,
            $"{what} for upload '{uploadId}' with a token that had fired already {(exception is null ? "succeeded" : $"threw {exception.GetType().Name}: {exception.Message}")}; it must throw OperationCanceledException (pass the token to every I/O, or check it first).");
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
