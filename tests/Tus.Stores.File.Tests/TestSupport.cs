using Tus.Protocol;

namespace Tus.Stores.Tests;

/// <summary>Gives each test its own store over its own temporary directory, removed afterwards.</summary>
public abstract class FileStoreTestBase : IDisposable
{
    protected FileStoreTestBase()
    {
        Root = Path.Combine(Path.GetTempPath(), "tus-stores-file-tests", Guid.NewGuid().ToString("N"));
        StoreDirectory = Path.Combine(Root, "store");
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "outside.txt"), "not the store's");
        Clock = new FixedTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Store = CreateStore();
    }

    /// <summary>The test's temporary directory; the store directory is inside it, next to a file the store must never touch.</summary>
    protected string Root { get; }

    protected string StoreDirectory { get; }

    protected FixedTimeProvider Clock { get; }

    protected FileStore Store { get; }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected FileStore CreateStore(Action<FileStoreOptions>? configure = null)
    {
        var options = new FileStoreOptions { Directory = StoreDirectory };
        configure?.Invoke(options);
        return new FileStore(options, Clock);
    }

    protected string DataPath(string id) => Path.Combine(StoreDirectory, id);

    protected string InfoPath(string id) => Path.Combine(StoreDirectory, id + ".info");

    protected Task<UploadInfo> CreateAsync(long? length = null, string? id = null) =>
        CreateAsync(Store, length, id);

    protected static async Task<UploadInfo> CreateAsync(FileStore store, long? length = null, string? id = null)
    {
        var upload = new NewUpload { Id = id ?? UploadId.New(), Length = length, CreatedAt = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        return await store.CreateAsync(upload, Ct);
    }

    /// <summary>Creates an upload of <paramref name="data"/>'s length (or a deferred one), appends the data and returns it as stored.</summary>
    protected async Task<UploadInfo> CreateWithDataAsync(byte[] data, bool deferLength = false, NewUpload? template = null)
    {
        var upload = await Store.CreateAsync((template ?? new NewUpload { Id = UploadId.New() }) with { Length = deferLength ? null : data.Length }, Ct);
        var appended = await Store.AppendAsync(upload, new MemoryStream(data), Ct);
        appended.Should().Be(data.Length);
        return (await Store.GetAsync(upload.Id, Ct))!;
    }

    protected async Task<byte[]> ReadAllAsync(UploadInfo upload)
    {
        await using var stream = await Store.OpenReadAsync(upload, 0, upload.Offset, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Every file and directory under <see cref="Root"/>, with file lengths, to show what an operation touched.</summary>
    protected IReadOnlyList<string> Snapshot() =>
        Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories)
            .Select(path => File.Exists(path) ? $"{Path.GetRelativePath(Root, path)}:{new FileInfo(path).Length}" : Path.GetRelativePath(Root, path) + "/")
            .Order(StringComparer.Ordinal)
            .ToList();

    protected string[] TempFiles() => Directory.GetFiles(StoreDirectory, "*.tmp");

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}

/// <summary>A clock that stands still unless moved.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// A non-seekable source of deterministic bytes (byte <c>p</c> is <see cref="At"/>(<c>p</c>)) that holds none of them:
/// it can stand for a body of any size. It can also fail or cancel after a given number of bytes, and write itself
/// into its destination the way the engine's request body does.
/// </summary>
public sealed class PatternStream(long length) : Stream
{
    private long _position;

    /// <summary>The most bytes one read returns, or one segment holds when writing itself.</summary>
    public int ChunkSize { get; init; } = 64 * 1024;

    /// <summary>When set, <see cref="CopyToAsync(Stream, int, CancellationToken)"/> writes segments straight into the destination.</summary>
    public bool WritesItself { get; init; }

    /// <summary>When set, the first read at or after this position throws <see cref="Failure"/>.</summary>
    public long? FailAt { get; init; }

    public Exception Failure { get; init; } = new IOException("The source broke off.");

    /// <summary>When set, the first read at or after <see cref="CancelAt"/> cancels this source, then honours the token.</summary>
    public CancellationTokenSource? CancelSource { get; init; }

    public long CancelAt { get; init; }

    public static byte At(long position) => (byte)(position % 251);

    public static void Fill(Span<byte> span, long start)
    {
        var value = (int)(start % 251);
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (byte)value;
            value = value == 250 ? 0 : value + 1;
        }
    }

    public static byte[] Bytes(long start, int count)
    {
        var bytes = new byte[count];
        Fill(bytes, start);
        return bytes;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Produce(buffer, CancellationToken.None);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Produce(buffer.AsSpan(offset, count), cancellationToken));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Produce(buffer.Span, cancellationToken));

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        if (!WritesItself)
        {
            await base.CopyToAsync(destination, bufferSize, cancellationToken);
            return;
        }

        var segment = new byte[ChunkSize];
        while (true)
        {
            var count = Produce(segment, cancellationToken);
            if (count == 0)
            {
                return;
            }

            await destination.WriteAsync(segment.AsMemory(0, count), cancellationToken);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Produce(Span<byte> buffer, CancellationToken cancellationToken)
    {
        if (FailAt is { } failAt && _position >= failAt)
        {
            throw Failure;
        }

        if (CancelSource is not null && _position >= CancelAt)
        {
            CancelSource.Cancel();
        }

        cancellationToken.ThrowIfCancellationRequested();
        var count = (int)Math.Min(Math.Min(buffer.Length, ChunkSize), length - _position);
        if (FailAt is { } limit)
        {
            count = (int)Math.Min(count, limit - _position);
        }

        if (CancelSource is not null && _position < CancelAt)
        {
            count = (int)Math.Min(count, CancelAt - _position);
        }

        Fill(buffer[..count], _position);
        _position += count;
        return count;
    }
}
