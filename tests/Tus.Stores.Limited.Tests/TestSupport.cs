using Tus.Protocol;

namespace Tus.Stores.Limited.Tests;

/// <summary>A clock whose time moves only when told; timers still run on real time.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>Gives each test a directory of its own for a <see cref="FileStore"/>, removed afterwards.</summary>
public abstract class QuotaTestBase : IDisposable
{
    protected static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    protected QuotaTestBase()
    {
        Directory = Path.Combine(Path.GetTempPath(), "tus-limited-tests", Guid.NewGuid().ToString("N"));
    }

    protected string Directory { get; }

    protected ManualClock Clock { get; } = new(Start);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected FileStore NewInner() => new(new FileStoreOptions { Directory = Directory }, Clock);

    protected LimitedStore NewQuota(QuotaOptions options, Locking.ITusLocker? locker = null) => new(NewInner(), options, Clock, locker, logger: null);

    protected NewUpload New(long? length, UploadConcatenation? concatenation = null) =>
        new() { Id = UploadId.New(), Length = length, CreatedAt = Clock.GetUtcNow(), Concatenation = concatenation };

    protected static byte[] Pattern(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A body that can be read once and not sought, as a request body is.</summary>
    protected static Stream Body(byte[] bytes) => new OneWayStream(bytes);

    protected static async Task<byte[]> ReadAllAsync(ITusStore store, UploadInfo upload)
    {
        await using var stream = await store.OpenReadAsync(upload, 0, upload.Offset, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    private sealed class OneWayStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, bytes.Length - _position);
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
