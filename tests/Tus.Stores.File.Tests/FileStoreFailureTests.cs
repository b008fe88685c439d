using Tus.Protocol;
using Tus.Stores.Internal;

namespace Tus.Stores.Tests;

/// <summary>Interrupted writes, concurrency, atomic info files and durability.</summary>
public sealed class FileStoreFailureTests : FileStoreTestBase
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AppendAsync_SourceThrowsMidway_KeepsTheBytesWrittenBefore(bool writesItself)
    {
        var upload = await CreateWithDataAsync(PatternStream.Bytes(0, 100), deferLength: true);
        var source = new PatternStream(1_000_000) { FailAt = 30_000, ChunkSize = 1000, WritesItself = writesItself };

        var act = async () => await Store.AppendAsync(upload, source, Ct);

        await act.Should().ThrowAsync<IOException>().WithMessage("The source broke off.");
        var stored = (await Store.GetAsync(upload.Id, Ct))!;
        stored.Offset.Should().Be(100 + 30_000);
        (await ReadAllAsync(stored)).Skip(100).Should().Equal(PatternStream.Bytes(0, 30_000));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AppendAsync_CancelledMidway_KeepsTheBytesWrittenBefore(bool writesItself)
    {
        var upload = await CreateAsync(1_000_000);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var source = new PatternStream(1_000_000) { CancelSource = cancel, CancelAt = 12_345, ChunkSize = 4096, WritesItself = writesItself };

        var act = async () => await Store.AppendAsync(upload, source, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        var stored = (await Store.GetAsync(upload.Id, Ct))!;
        stored.Offset.Should().Be(12_345);
        (await ReadAllAsync(stored)).Should().Equal(PatternStream.Bytes(0, 12_345));
    }

    [Fact]
    public async Task AppendAsync_DiskFullWhileCopying_ThrowsStorageFullAndKeepsTheBytes()
    {
        var upload = await CreateAsync(100_000);
        var diskFull = new IOException("No space left on device", OperatingSystem.IsWindows() ? unchecked((int)0x80070070) : 28);
        var source = new PatternStream(100_000) { FailAt = 5000, ChunkSize = 1000, Failure = diskFull };

        var act = async () => await Store.AppendAsync(upload, source, Ct);

        (await act.Should().ThrowAsync<StorageFullException>()).WithInnerException<IOException>();
        (await Store.GetAsync(upload.Id, Ct))!.Offset.Should().Be(5000);
    }

    [Fact]
    public void IsDiskFull_RealNoSpaceError_IsRecognised()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/dev/full"))
        {
            Assert.Skip("Needs Linux's /dev/full, which fails every write with ENOSPC.");
        }

        IOException? error = null;
        try
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            full.Write(new byte[16]);
        }
        catch (IOException e)
        {
            error = e;
        }

        error.Should().NotBeNull();
        StorageErrors.IsDiskFull(error!).Should().BeTrue();
        StorageErrors.IsDiskFull(new IOException("other", 5)).Should().BeFalse();
        StorageErrors.IsDiskFull(new FileNotFoundException("missing")).Should().BeFalse();
    }

    [Fact]
    public async Task CreateAsync_64InParallel_CreatesDistinctUploads()
    {
        var ids = Enumerable.Range(0, 64).Select(_ => UploadId.New()).ToArray();

        var created = await Task.WhenAll(ids.Select(id => Task.Run(() => Store.CreateAsync(new NewUpload { Id = id, Length = 10 }, Ct).AsTask(), Ct)));

        created.Select(u => u.Id).Should().BeEquivalentTo(ids);
        foreach (var id in ids)
        {
            (await Store.GetAsync(id, Ct))!.Offset.Should().Be(0);
        }

        Directory.GetFiles(StoreDirectory).Should().HaveCount(128);
        TempFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task CreateAsync_SameIdInParallel_ExactlyOneSucceeds()
    {
        var id = UploadId.New();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(
            async () =>
            {
                try
                {
                    await Store.CreateAsync(new NewUpload { Id = id, Length = i }, Ct);
                    return true;
                }
                catch (UploadAlreadyExistsException)
                {
                    return false;
                }
            },
            Ct)));

        attempts.Count(success => success).Should().Be(1);
        (await Store.GetAsync(id, Ct)).Should().NotBeNull();
    }

    [Fact]
    public async Task AppendAsync_DifferentUploadsInParallel_EachKeepsItsOwnBytes()
    {
        var uploads = new List<(UploadInfo Upload, byte[] Data)>();
        for (var i = 0; i < 16; i++)
        {
            var data = RandomBytes(200_000, seed: 100 + i);
            uploads.Add((await CreateAsync(data.Length), data));
        }

        await Task.WhenAll(uploads.Select(u => Task.Run(
            async () =>
            {
                for (var position = 0; position < u.Data.Length; position += 10_000)
                {
                    var current = (await Store.GetAsync(u.Upload.Id, Ct))!;
                    await Store.AppendAsync(current, new MemoryStream(u.Data, position, 10_000), Ct);
                }
            },
            Ct)));

        foreach (var (upload, data) in uploads)
        {
            var stored = (await Store.GetAsync(upload.Id, Ct))!;
            stored.IsComplete.Should().BeTrue();
            (await ReadAllAsync(stored)).Should().Equal(data);
        }
    }

    [Fact]
    public async Task GetAsync_WhileTheInfoIsRewritten_NeverSeesAPartialFile()
    {
        var upload = await CreateAsync(10);
        var metadata = UploadMetadata.FromStrings(Enumerable.Range(0, 200).Select(i => new KeyValuePair<string, string>($"key{i}", new string('v', 100))));
        await Store.Termination!.DeleteAsync(upload.Id, Ct);
        upload = await Store.CreateAsync(new NewUpload { Id = upload.Id, Length = 10, Metadata = metadata }, Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var writer = Task.Run(
            async () =>
            {
                for (var i = 0; i < 300; i++)
                {
                    await Store.Expiration!.SetExpiryAsync(upload, Clock.Now.AddSeconds(i), Ct);
                }

                await stop.CancelAsync();
            },
            Ct);
        var reads = 0;
        while (!stop.IsCancellationRequested)
        {
            var read = await Store.GetAsync(upload.Id, Ct);
            read.Should().NotBeNull();
            read!.Metadata.Should().HaveCount(200);
            reads++;
        }

        await writer;
        reads.Should().BePositive();
        TempFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task StrayTemporaryFile_IsNeverTakenForAnUpload()
    {
        var upload = await CreateAsync(10, id: "real");
        await Store.Expiration!.SetExpiryAsync(upload, Clock.Now.AddDays(-1), Ct);
        var info = await File.ReadAllTextAsync(InfoPath("real"), Ct);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, "ghost.info.1234abcd.tmp"), info.Replace("real", "ghost", StringComparison.Ordinal), Ct);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, "ghost"), "data", Ct);
        await File.WriteAllTextAsync(Path.Combine(StoreDirectory, "real.info.1234abcd.tmp"), "{ half-written", Ct);

        (await Store.GetAsync("ghost", Ct)).Should().BeNull();
        (await Store.GetAsync("real", Ct))!.ExpiresAt.Should().Be(Clock.Now.AddDays(-1));
        var listed = new List<string>();
        await foreach (var listedUpload in Store.Listing!.ListAsync(Ct))
        {
            listed.Add(listedUpload.Id);
        }

        listed.Should().Equal("real");
    }

    [Fact]
    public async Task FlushToDisk_Enabled_EveryOperationStillWorks()
    {
        var store = CreateStore(o => o.FlushToDisk = true);
        var data = RandomBytes(50_000, seed: 30);

        var upload = await store.CreateAsync(new NewUpload { Id = UploadId.New() }, Ct);
        (await store.AppendAsync(upload, new MemoryStream(data, 0, 20_000), Ct)).Should().Be(20_000);
        upload = (await store.GetAsync(upload.Id, Ct))!;
        upload = await store.DeferredLength!.SetLengthAsync(upload, data.Length, Ct);
        upload = await store.Expiration!.SetExpiryAsync(upload, Clock.Now.AddHours(1), Ct);
        (await store.AppendAsync(upload, new MemoryStream(data, 20_000, 30_000), Ct)).Should().Be(30_000);
        upload = (await store.GetAsync(upload.Id, Ct))!;
        upload.IsComplete.Should().BeTrue();
        var final = await store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([upload.Id]) }, Ct);
        final = await store.Concatenation!.ConcatenateAsync(final, [upload], Ct);
        final = await store.Checksum!.DiscardFromAsync(final, 10_000, Ct);

        final.Offset.Should().Be(10_000);
        (await ReadAllAsync(upload)).Should().Equal(data);
        (await ReadAllAsync(final)).Should().Equal(data.Take(10_000));
        TempFiles().Should().BeEmpty();

        var failing = await store.CreateAsync(new NewUpload { Id = UploadId.New() }, Ct);
        var act = async () => await store.AppendAsync(failing, new PatternStream(10_000) { FailAt = 3000, ChunkSize = 1000 }, Ct);
        await act.Should().ThrowAsync<IOException>();
        (await store.GetAsync(failing.Id, Ct))!.Offset.Should().Be(3000);
    }

    [Fact]
    public async Task TwoStoresOverOneDirectory_SeeEachOthersUploads()
    {
        var other = CreateStore();
        var upload = await CreateWithDataAsync([1, 2, 3]);

        var seen = await other.GetAsync(upload.Id, Ct);

        seen!.Offset.Should().Be(3);
        await other.Termination!.DeleteAsync(upload.Id, Ct);
        (await Store.GetAsync(upload.Id, Ct)).Should().BeNull();
    }
}
