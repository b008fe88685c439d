using System.Text;
using System.Text.Json;
using Tus.Protocol;

namespace Tus.Stores.Tests;

public sealed class FileStoreTests : FileStoreTestBase
{
    [Fact]
    public async Task CreateAsync_NewUpload_ReturnsOffsetZeroAndWritesDataAndInfo()
    {
        var id = UploadId.New();

        var upload = await Store.CreateAsync(new NewUpload { Id = id, Length = 42, CreatedAt = Clock.Now, ExpiresAt = Clock.Now.AddHours(1) }, Ct);

        upload.Id.Should().Be(id);
        upload.Offset.Should().Be(0);
        upload.Length.Should().Be(42);
        upload.CreatedAt.Should().Be(Clock.Now);
        upload.ExpiresAt.Should().Be(Clock.Now.AddHours(1));
        new FileInfo(DataPath(id)).Length.Should().Be(0);
        File.Exists(InfoPath(id)).Should().BeTrue();
        upload.Storage.Should().Contain("Type", "file")
            .And.Contain("Path", Path.GetFullPath(DataPath(id)))
            .And.Contain("InfoPath", Path.GetFullPath(InfoPath(id)));
    }

    [Fact]
    public async Task CreateAsync_NoCreationTime_UsesTheTimeProvider()
    {
        var upload = await Store.CreateAsync(new NewUpload { Id = UploadId.New() }, Ct);

        upload.CreatedAt.Should().Be(Clock.Now);
        (await Store.GetAsync(upload.Id, Ct))!.CreatedAt.Should().Be(Clock.Now);
    }

    [Fact]
    public async Task CreateAsync_ExistingId_ThrowsUploadAlreadyExistsAndKeepsTheUpload()
    {
        var upload = await CreateWithDataAsync([1, 2, 3]);

        var act = async () => await Store.CreateAsync(new NewUpload { Id = upload.Id, Length = 99 }, Ct);

        (await act.Should().ThrowAsync<UploadAlreadyExistsException>()).Which.UploadId.Should().Be(upload.Id);
        var stored = await Store.GetAsync(upload.Id, Ct);
        stored!.Length.Should().Be(3);
        stored.Offset.Should().Be(3);
    }

    [Fact]
    public async Task CreateAsync_NegativeLength_ThrowsArgumentOutOfRange()
    {
        var act = async () => await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = -1 }, Ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
        Directory.EnumerateFileSystemEntries(StoreDirectory).Should().BeEmpty();
    }

    [Theory]
    [InlineData("NUL")]
    [InlineData("con")]
    [InlineData("Com1")]
    [InlineData("lpt9")]
    public async Task CreateAsync_WindowsDeviceName_ThrowsArgumentExceptionAndGetReturnsNull(string id)
    {
        var act = async () => await Store.CreateAsync(new NewUpload { Id = id }, Ct);

        await act.Should().ThrowAsync<ArgumentException>();
        (await Store.GetAsync(id, Ct)).Should().BeNull();
        await Store.Termination!.DeleteAsync(id, Ct);
        Directory.EnumerateFileSystemEntries(StoreDirectory).Should().BeEmpty();
    }

    [Fact]
    public async Task GetAsync_UnknownId_ReturnsNull()
    {
        (await Store.GetAsync(UploadId.New(), Ct)).Should().BeNull();
    }

    [Fact]
    public async Task GetAsync_InfoWithoutDataFile_ReturnsNull()
    {
        var upload = await CreateAsync(10);
        File.Delete(DataPath(upload.Id));

        (await Store.GetAsync(upload.Id, Ct)).Should().BeNull();
    }

    [Fact]
    public async Task GetAsync_DataWithoutInfoFile_ReturnsNull()
    {
        var upload = await CreateAsync(10);
        File.Delete(InfoPath(upload.Id));

        (await Store.GetAsync(upload.Id, Ct)).Should().BeNull();
    }

    [Fact]
    public async Task GetAsync_StoreDirectoryRemoved_ReturnsNull()
    {
        var upload = await CreateAsync(10);
        Directory.Delete(StoreDirectory, recursive: true);

        (await Store.GetAsync(upload.Id, Ct)).Should().BeNull();
    }

    [Fact]
    public async Task GetAsync_StoredUpload_ReturnsEverythingStored()
    {
        var id = UploadId.New();
        var created = await Store.CreateAsync(
            new NewUpload
            {
                Id = id,
                Length = 1000,
                Metadata = UploadMetadata.FromStrings([new("filename", "a.txt")]),
                Concatenation = UploadConcatenation.Partial,
                CreatedAt = Clock.Now.AddMinutes(-5),
                ExpiresAt = Clock.Now.AddDays(1),
            },
            Ct);

        var stored = await Store.GetAsync(id, Ct);

        stored.Should().NotBeNull();
        stored!.Length.Should().Be(1000);
        stored.Offset.Should().Be(0);
        stored.Metadata.GetString("filename").Should().Be("a.txt");
        stored.Concatenation.Should().Be(UploadConcatenation.Partial);
        stored.CreatedAt.Should().Be(Clock.Now.AddMinutes(-5));
        stored.ExpiresAt.Should().Be(Clock.Now.AddDays(1));
        stored.Storage.Should().BeEquivalentTo(created.Storage);
    }

    [Fact]
    public async Task GetAsync_FinalUpload_ReturnsPartialIdsInOrder()
    {
        string[] partials = ["p3", "p1", "p2"];
        await Store.CreateAsync(new NewUpload { Id = "final", Concatenation = UploadConcatenation.Final(partials) }, Ct);

        var stored = await Store.GetAsync("final", Ct);

        stored!.Concatenation!.IsFinal.Should().BeTrue();
        stored.Concatenation.PartialIds.Should().Equal(partials);
        stored.Length.Should().BeNull();
    }

    [Fact]
    public async Task GetAsync_MetadataWithNonAsciiAndBinaryValues_RoundTripsExactBytesInOrder()
    {
        byte[] binary = [0xFF, 0xFE, 0x00, 0xC3, 0x28, 0x80, 0x7F];
        var entries = new KeyValuePair<string, ReadOnlyMemory<byte>>[]
        {
            new("zeta", Encoding.UTF8.GetBytes("Grüße, 世界 🎉")),
            new("binary", binary),
            new("empty", ReadOnlyMemory<byte>.Empty),
            new("alpha", Encoding.UTF8.GetBytes("plain")),
        };
        var id = UploadId.New();
        await Store.CreateAsync(new NewUpload { Id = id, Metadata = UploadMetadata.Create(entries) }, Ct);

        var stored = await Store.GetAsync(id, Ct);

        stored!.Metadata.Select(e => e.Key).Should().Equal("zeta", "binary", "empty", "alpha");
        stored.Metadata.Select(e => e.Value.ToArray()).Should().BeEquivalentTo(entries.Select(e => e.Value.ToArray()), o => o.WithStrictOrdering());
        stored.Metadata.GetString("zeta").Should().Be("Grüße, 世界 🎉");
        stored.Metadata.GetString("binary").Should().BeNull("the value is not UTF-8, and must not have been altered into UTF-8");

        using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(InfoPath(id), Ct));
        var onDisk = json.RootElement.GetProperty("metadata").EnumerateArray().ToList();
        onDisk.Select(e => e.GetProperty("key").GetString()).Should().Equal("zeta", "binary", "empty", "alpha");
        onDisk[1].GetProperty("value").GetString().Should().Be(Convert.ToBase64String(binary));
    }

    [Fact]
    public async Task CreateAsync_InfoFile_HoldsNoOffset()
    {
        var upload = await CreateWithDataAsync(new byte[10]);

        using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(InfoPath(upload.Id), Ct));

        json.RootElement.TryGetProperty("offset", out _).Should().BeFalse();
        json.RootElement.GetProperty("id").GetString().Should().Be(upload.Id);
        json.RootElement.GetProperty("length").GetInt64().Should().Be(10);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    [InlineData("{\"version\":1,\"id\":\"OTHER\",\"length\":1}")]
    [InlineData("{\"version\":2,\"id\":\"ID\",\"length\":1}")]
    [InlineData("{\"version\":1,\"id\":\"ID\",\"length\":-5}")]
    [InlineData("{\"version\":1,\"id\":\"ID\",\"metadata\":[{\"key\":\"bad key\",\"value\":\"\"}]}")]
    [InlineData("{\"version\":1,\"id\":\"ID\",\"metadata\":[{\"key\":\"k\",\"value\":\"not*base64\"}]}")]
    [InlineData("{\"version\":1,\"id\":\"ID\",\"metadata\":[{\"key\":\"k\"}]}")]
    [InlineData("{\"version\":1,\"id\":\"ID\",\"concatenation\":{\"isFinal\":true,\"partialIds\":[]}}")]
    [InlineData("{\"version\":1,\"id\":\"ID\",\"concatenation\":{\"isFinal\":true,\"partialIds\":[\"../x\"]}}")]
    public async Task GetAsync_CorruptInfo_ThrowsInvalidDataException(string content)
    {
        var upload = await CreateAsync(10);
        await File.WriteAllTextAsync(InfoPath(upload.Id), content.Replace("\"ID\"", $"\"{upload.Id}\"", StringComparison.Ordinal), Ct);

        var act = async () => await Store.GetAsync(upload.Id, Ct);

        await act.Should().ThrowAsync<InvalidDataException>();
    }

    [Fact]
    public async Task AppendAsync_ManyChunks_ReadsBackByteExact()
    {
        var data = RandomBytes(300_000, seed: 1);
        var upload = await CreateAsync(data.Length);
        var random = new Random(2);
        var position = 0;
        var chunks = 0;

        while (position < data.Length)
        {
            var size = Math.Min(random.Next(1, 20_000), data.Length - position);
            var current = (await Store.GetAsync(upload.Id, Ct))!;
            current.Offset.Should().Be(position);

            var appended = await Store.AppendAsync(current, new MemoryStream(data, position, size), Ct);

            appended.Should().Be(size);
            position += size;
            chunks++;
        }

        var stored = (await Store.GetAsync(upload.Id, Ct))!;
        chunks.Should().BeGreaterThan(20);
        stored.Offset.Should().Be(data.Length);
        stored.IsComplete.Should().BeTrue();
        (await ReadAllAsync(stored)).Should().Equal(data);
    }

    [Fact]
    public async Task AppendAsync_SourceThatWritesItself_AppendsEveryByte()
    {
        var upload = await CreateAsync(100_000);

        var appended = await Store.AppendAsync(upload, new PatternStream(100_000) { WritesItself = true, ChunkSize = 4096 }, Ct);

        appended.Should().Be(100_000);
        (await ReadAllAsync((await Store.GetAsync(upload.Id, Ct))!)).Should().Equal(PatternStream.Bytes(0, 100_000));
    }

    [Fact]
    public async Task AppendAsync_EmptyStream_AppendsNothing()
    {
        var upload = await CreateWithDataAsync([1, 2, 3], deferLength: true);

        var appended = await Store.AppendAsync(upload, Stream.Null, Ct);

        appended.Should().Be(0);
        (await Store.GetAsync(upload.Id, Ct))!.Offset.Should().Be(3);
    }

    [Fact]
    public async Task AppendAsync_OffsetDiffersFromDataFile_ThrowsInvalidOperationAndWritesNothing()
    {
        var upload = await CreateWithDataAsync([1, 2, 3], deferLength: true);

        var act = async () => await Store.AppendAsync(upload with { Offset = 1 }, new MemoryStream([9, 9]), Ct);

        await act.Should().ThrowAsync<InvalidOperationException>();
        (await ReadAllAsync(upload)).Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task AppendAsync_DataFileMissing_ThrowsUploadNotFound()
    {
        var upload = await CreateAsync(10);
        File.Delete(DataPath(upload.Id));

        var act = async () => await Store.AppendAsync(upload, new MemoryStream([1]), Ct);

        (await act.Should().ThrowAsync<UploadNotFoundException>()).Which.UploadId.Should().Be(upload.Id);
        File.Exists(DataPath(upload.Id)).Should().BeFalse();
    }

    [Fact]
    public async Task AppendAsync_NullArguments_ThrowArgumentNull()
    {
        var upload = await CreateAsync(10);

        await FluentActions.Awaiting(async () => await Store.AppendAsync(null!, Stream.Null, Ct)).Should().ThrowAsync<ArgumentNullException>();
        await FluentActions.Awaiting(async () => await Store.AppendAsync(upload, null!, Ct)).Should().ThrowAsync<ArgumentNullException>();
    }

    [Fact]
    public async Task GetAsync_DataFileChangedExternally_ReportsTheDataFileLength()
    {
        var upload = await CreateWithDataAsync(RandomBytes(1000, seed: 3));

        await using (var file = new FileStream(DataPath(upload.Id), FileMode.Open))
        {
            file.SetLength(400);
        }

        (await Store.GetAsync(upload.Id, Ct))!.Offset.Should().Be(400);

        await using (var file = new FileStream(DataPath(upload.Id), FileMode.Open))
        {
            file.SetLength(1500);
        }

        var extended = (await Store.GetAsync(upload.Id, Ct))!;
        extended.Offset.Should().Be(1500);
        extended.Length.Should().Be(1000);
    }

    [Theory]
    [InlineData(0, 1000)]
    [InlineData(0, 10)]
    [InlineData(500, 100)]
    [InlineData(990, 10)]
    [InlineData(999, 1)]
    [InlineData(1000, 0)]
    [InlineData(0, 0)]
    [InlineData(250, 0)]
    public async Task OpenReadAsync_Range_ReturnsExactlyThoseBytes(long offset, long length)
    {
        var data = RandomBytes(1000, seed: 4);
        var upload = await CreateWithDataAsync(data);

        await using var stream = await Store.OpenReadAsync(upload, offset, length, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);

        copy.ToArray().Should().Equal(data.Skip((int)offset).Take((int)length));
        stream.CanRead.Should().BeTrue();
        stream.CanWrite.Should().BeFalse();
        stream.Length.Should().Be(length);
        (await stream.ReadAsync(new byte[10], Ct)).Should().Be(0);
    }

    [Fact]
    public async Task OpenReadAsync_SeekAndSyncReads_StayWithinTheRange()
    {
        var data = RandomBytes(1000, seed: 5);
        var upload = await CreateWithDataAsync(data);
        await using var stream = await Store.OpenReadAsync(upload, 100, 50, Ct);
        var buffer = new byte[100];

        stream.Seek(40, SeekOrigin.Begin).Should().Be(40);
        stream.Read(buffer, 0, 100).Should().Be(10);
        buffer.Take(10).Should().Equal(data.Skip(140).Take(10));
        stream.Read(buffer, 0, 100).Should().Be(0);

        stream.Seek(-50, SeekOrigin.End).Should().Be(0);
        stream.Seek(5, SeekOrigin.Current).Should().Be(5);
        stream.ReadByte().Should().Be(data[105]);
        stream.Position = 49;
        stream.ReadByte().Should().Be(data[149]);
        stream.ReadByte().Should().Be(-1);

        FluentActions.Invoking(() => stream.Seek(-1, SeekOrigin.Begin)).Should().Throw<IOException>();
        FluentActions.Invoking(() => stream.Write([1], 0, 1)).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => stream.SetLength(1)).Should().Throw<NotSupportedException>();
    }

    [Fact]
    public async Task OpenReadAsync_AfterDispose_Throws()
    {
        var upload = await CreateWithDataAsync(new byte[10]);
        var stream = await Store.OpenReadAsync(upload, 0, 10, Ct);

        await stream.DisposeAsync();

        stream.CanRead.Should().BeFalse();
        FluentActions.Invoking(() => stream.ReadByte()).Should().Throw<ObjectDisposedException>();
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(0, -1)]
    [InlineData(0, 11)]
    [InlineData(5, 6)]
    [InlineData(11, 0)]
    [InlineData(long.MaxValue, 1)]
    public async Task OpenReadAsync_RangeOutsideTheOffset_ThrowsArgumentOutOfRange(long offset, long length)
    {
        var upload = await CreateWithDataAsync(new byte[10]);

        var act = async () => await Store.OpenReadAsync(upload, offset, length, Ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task OpenReadAsync_DataFileMissing_ThrowsUploadNotFound()
    {
        var upload = await CreateWithDataAsync(new byte[10]);
        File.Delete(DataPath(upload.Id));

        var act = async () => await Store.OpenReadAsync(upload, 0, 10, Ct);

        await act.Should().ThrowAsync<UploadNotFoundException>();
    }

    [Fact]
    public async Task OpenReadAsync_DataFileShorterThanTheRange_ThrowsEndOfStream()
    {
        var upload = await CreateWithDataAsync(new byte[100]);
        await using var stream = await Store.OpenReadAsync(upload, 0, 100, Ct);
        await using (var file = new FileStream(DataPath(upload.Id), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(60);
        }

        var act = async () => await stream.CopyToAsync(Stream.Null, Ct);

        await act.Should().ThrowAsync<EndOfStreamException>();
    }

    [Fact]
    public async Task OpenReadAsync_WhileAnAppendRuns_ReadsTheStoredRange()
    {
        var upload = await CreateWithDataAsync(PatternStream.Bytes(0, 1000), deferLength: true);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var append = Store.AppendAsync(upload, new PatternStream(long.MaxValue) { CancelSource = cancel, CancelAt = 50_000_000 }, cancel.Token).AsTask();

        await using (var stream = await Store.OpenReadAsync(upload, 0, 1000, Ct))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, Ct);
            copy.ToArray().Should().Equal(PatternStream.Bytes(0, 1000));
        }

        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => append).Should().ThrowAsync<OperationCanceledException>();
    }
}
