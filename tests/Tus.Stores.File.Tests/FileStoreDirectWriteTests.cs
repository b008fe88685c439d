using Tus.Protocol;

namespace Tus.Stores.Tests;

/// <summary>
/// Appends past <see cref="FileStoreOptions.DirectWriteThreshold"/> write around the page cache on Linux. Whatever the
/// offsets, lengths and failures, the data file must hold exactly the body's bytes, in order, and nothing more.
/// </summary>
public sealed class FileStoreDirectWriteTests : FileStoreTestBase
{
    private const int MiB = 1024 * 1024;

    [Theory]
    [InlineData(0, 3 * MiB)] // aligned start, whole buffers
    [InlineData(0, (3 * MiB) + 1234)] // a tail shorter than a block
    [InlineData(5000, (2 * MiB) + 7)] // the last block of the first append is re-read and written again
    [InlineData(4096, MiB - 1)] // aligned start, less than one buffer
    [InlineData(1, 4095)] // never a whole block of new data
    public async Task AppendAsync_DirectFromTheFirstByte_FileHoldsExactlyTheBody(int first, int second)
    {
        var store = CreateStore(o => o.DirectWriteThreshold = 0);
        var head = RandomBytes(first, 1);
        var body = RandomBytes(second, 2);
        var upload = await CreateAsync(store, first + second);
        (await store.AppendAsync(upload, new MemoryStream(head), Ct)).Should().Be(first);
        upload = (await store.GetAsync(upload.Id, Ct))!;

        var appended = await store.AppendAsync(upload, new PatternSource(body, chunk: 61_000), Ct);

        appended.Should().Be(second);
        (await File.ReadAllBytesAsync(DataPath(upload.Id), Ct)).Should().Equal([.. head, .. body]);
        (await store.GetAsync(upload.Id, Ct))!.Offset.Should().Be(first + second);
    }

    [Fact]
    public async Task AppendAsync_CrossesTheThresholdMidBody_FileHoldsExactlyTheBody()
    {
        var store = CreateStore(o => o.DirectWriteThreshold = MiB + 3);
        var body = RandomBytes((5 * MiB) + 999, 3);
        var upload = await CreateAsync(store, body.Length);

        var appended = await store.AppendAsync(upload, new PatternSource(body, chunk: 128 * 1024), Ct);

        appended.Should().Be(body.Length);
        (await File.ReadAllBytesAsync(DataPath(upload.Id), Ct)).Should().Equal(body);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(MiB + 5)]
    public async Task AppendAsync_BodyFailsMidway_KeepsEveryByteReceivedBeforeTheFailure(int threshold)
    {
        var store = CreateStore(o => o.DirectWriteThreshold = threshold);
        var body = RandomBytes((3 * MiB) + 4321, 4);
        var upload = await CreateAsync(store, body.Length + 100);

        var act = async () => await store.AppendAsync(upload, new PatternSource(body, chunk: 100_000) { FailAtEnd = true }, Ct);

        await act.Should().ThrowAsync<IOException>().WithMessage("*connection*");
        (await store.GetAsync(upload.Id, Ct))!.Offset.Should().Be(body.Length);
        (await File.ReadAllBytesAsync(DataPath(upload.Id), Ct)).Should().Equal(body);
    }

    [Fact]
    public async Task AppendAsync_DirectWritesDisabled_WritesTheOrdinaryWay()
    {
        var store = CreateStore(o => { o.DirectWrites = false; o.DirectWriteThreshold = 0; });
        var body = RandomBytes((2 * MiB) + 17, 5);
        var upload = await CreateAsync(store, body.Length);

        (await store.AppendAsync(upload, new PatternSource(body, chunk: 65_536), Ct)).Should().Be(body.Length);

        (await File.ReadAllBytesAsync(DataPath(upload.Id), Ct)).Should().Equal(body);
    }

    [Fact]
    public async Task AppendAsync_FileSystemWithoutDirectIO_FallsBackAndKeepsEveryByte()
    {
        // tmpfs refuses O_DIRECT: the store must notice and write the ordinary way.
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/dev/shm") || !IsTmpfs("/dev/shm"))
        {
            Assert.Skip("needs a tmpfs at /dev/shm (Linux) to see a file system without direct I/O");
        }

        var directory = Path.Combine("/dev/shm", "tus-direct-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new FileStore(new FileStoreOptions { Directory = directory, DirectWriteThreshold = 0 }, Clock);
            var body = RandomBytes((2 * MiB) + 3, 6);
            var upload = await CreateAsync(store, body.Length);

            (await store.AppendAsync(upload, new PatternSource(body, chunk: 300_000), Ct)).Should().Be(body.Length);

            (await File.ReadAllBytesAsync(Path.Combine(directory, upload.Id), Ct)).Should().Equal(body);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static bool IsTmpfs(string path) =>
        File.ReadLines("/proc/mounts").Select(line => line.Split(' ')).Any(f => f.Length > 2 && f[1] == path && f[2] == "tmpfs");

    /// <summary>A non-seekable body handed out in chunks of a given size; optionally fails like a dropped connection after its last byte.</summary>
    private sealed class PatternSource(byte[] data, int chunk) : Stream
    {
        private int _position;

        public bool FailAtEnd { get; init; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position == data.Length)
            {
                return FailAtEnd ? throw new IOException("The client closed the connection.") : 0;
            }

            var count = Math.Min(Math.Min(chunk, buffer.Length), data.Length - _position);
            data.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
