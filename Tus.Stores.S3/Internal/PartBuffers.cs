using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Tus.Stores.Internal;

/// <summary>
/// The buffers parts are cut into while a request body arrives: temporary files or memory chunks. At most
/// <see cref="S3StoreOptions.MaxBufferedParts"/> exist at once across the whole store; a request that wants one more
/// waits (with its token) until another part finished uploading. Buffers are reused, so a long upload allocates nothing
/// per part.
/// </summary>
internal sealed class PartBufferPool : IDisposable
{
    /// <summary>Memory buffers are made of chunks of this size, so memory follows the bytes held, not the part size.</summary>
    public const int ChunkSize = 1024 * 1024;

    /// <summary>Temporary files are named <c>tus-s3-{pid}-{guid}.part</c>, so a sweep can tell whose they are.</summary>
    private const string FilePrefix = "tus-s3-";
    private const string FileSuffix = ".part";

    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<PartBuffer> _free = [];
    private readonly ConcurrentBag<byte[]> _chunks = [];
    private readonly string? _directory;
    private readonly int _maxBuffers;
    private long _bytesHeld;
    private int _disposed;

    public PartBufferPool(int maxBuffers, string? directory)
    {
        _slots = new SemaphoreSlim(maxBuffers, maxBuffers);
        _maxBuffers = maxBuffers;
        _directory = directory;
    }

    /// <summary>Bytes held in the buffers, all of them (for the metrics).</summary>
    public long BytesHeld => Volatile.Read(ref _bytesHeld);

    /// <summary>Buffers rented and not yet returned (for the metrics).</summary>
    public int InUse => _maxBuffers - _slots.CurrentCount;

    internal void Held(long delta) => Interlocked.Add(ref _bytesHeld, delta);

    /// <summary>The directory of temporary files, or <see langword="null"/> for memory buffers.</summary>
    public string? Directory => _directory;

    /// <summary>Waits for a free buffer (empty).</summary>
    public async ValueTask<PartBuffer> RentAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_free.TryTake(out var buffer))
            {
                return buffer;
            }

            // Unique per buffer: several stores (and processes) may share the directory.
            return _directory is null ? new MemoryPartBuffer(this) : FilePartBuffer.Create(this, Path.Combine(_directory, $"{FilePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}{FileSuffix}"));
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>Takes a buffer back, emptied, for the next request.</summary>
    public void Return(PartBuffer buffer)
    {
        if (Volatile.Read(ref _disposed) != 0 || !buffer.TryReset())
        {
            buffer.Dispose();
        }
        else
        {
            _free.Add(buffer);
        }

        _slots.Release();
    }

    internal byte[] TakeChunk() => _chunks.TryTake(out var chunk) ? chunk : new byte[ChunkSize];

    internal void GiveChunk(byte[] chunk) => _chunks.Add(chunk);

    /// <summary>
    /// Removes part files left in <paramref name="directory"/> by processes that are no longer running (a crash leaves
    /// them; a clean run deletes its own). Files of live processes, other stores in this one included, are kept.
    /// </summary>
    /// <returns>How many files were removed.</returns>
    public static int SweepAbandonedFiles(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var path in System.IO.Directory.EnumerateFiles(directory, FilePrefix + "*" + FileSuffix))
        {
            var name = Path.GetFileName(path);
            var dash = name.IndexOf('-', FilePrefix.Length);
            if (dash < 0 || !int.TryParse(name.AsSpan(FilePrefix.Length, dash - FilePrefix.Length), out var pid) || IsRunning(pid))
            {
                continue;
            }

            try
            {
                File.Delete(path);
                removed++;
            }
            catch (IOException)
            {
                // In use after all, or gone already: the next sweep tries again.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return removed;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        while (_free.TryTake(out var buffer))
        {
            buffer.Dispose();
        }

        _chunks.Clear();
    }
}

/// <summary>One part's bytes while they are received and uploaded.</summary>
internal abstract class PartBuffer(PartBufferPool pool) : IDisposable
{
    /// <summary>How many bytes the buffer holds.</summary>
    public long Length { get; private set; }

    protected PartBufferPool Pool => pool;

    /// <summary>Counts bytes added (the pool's total follows, for the metrics).</summary>
    protected void Grew(long count)
    {
        Length += count;
        pool.Held(count);
    }

    /// <summary>Forgets every byte held.</summary>
    protected void Emptied()
    {
        pool.Held(-Length);
        Length = 0;
    }

    /// <summary>
    /// Reads from <paramref name="source"/> until the buffer holds <paramref name="limit"/> bytes or the source ends.
    /// Bytes read before the source throws, or the token fires, stay in the buffer (and in <see cref="Length"/>).
    /// </summary>
    /// <returns>How many bytes were added.</returns>
    public abstract ValueTask<long> FillAsync(Stream source, long limit, CancellationToken cancellationToken);

    /// <summary>Appends bytes.</summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>A seekable stream over the bytes held, for one upload request; disposing it leaves the buffer intact.</summary>
    public abstract Stream OpenRead();

    /// <summary>Empties the buffer for reuse; <see langword="false"/> when it cannot be reused.</summary>
    public abstract bool TryReset();

    public abstract void Dispose();
}

/// <summary>A part held in 1 MiB chunks from the pool.</summary>
internal sealed class MemoryPartBuffer(PartBufferPool pool) : PartBuffer(pool)
{
    private readonly List<byte[]> _chunks = [];

    public override async ValueTask<long> FillAsync(Stream source, long limit, CancellationToken cancellationToken)
    {
        long added = 0;
        while (Length < limit)
        {
            // Checked on every read: a body that ignores the token must not keep the write going.
            cancellationToken.ThrowIfCancellationRequested();
            var within = (int)(Length % PartBufferPool.ChunkSize);
            if (within == 0 && _chunks.Count * (long)PartBufferPool.ChunkSize == Length)
            {
                _chunks.Add(Pool.TakeChunk());
            }

            var chunk = _chunks[^1];
            var count = (int)Math.Min(limit - Length, PartBufferPool.ChunkSize - within);
            var read = await source.ReadAsync(chunk.AsMemory(within, count), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            Grew(read);
            added += read;
        }

        return added;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var within = (int)(Length % PartBufferPool.ChunkSize);
            if (within == 0 && _chunks.Count * (long)PartBufferPool.ChunkSize == Length)
            {
                _chunks.Add(Pool.TakeChunk());
            }

            var count = Math.Min(bytes.Length, PartBufferPool.ChunkSize - within);
            bytes.Span[..count].CopyTo(_chunks[^1].AsSpan(within));
            bytes = bytes[count..];
            Grew(count);
        }

        return ValueTask.CompletedTask;
    }

    public override Stream OpenRead() => new ChunkReadStream(_chunks, Length);

    public override bool TryReset()
    {
        foreach (var chunk in _chunks)
        {
            Pool.GiveChunk(chunk);
        }

        _chunks.Clear();
        Emptied();
        return true;
    }

    public override void Dispose() => TryReset();

    private sealed class ChunkReadStream(List<byte[]> chunks, long length) : ReadOnlySeekableStream(length)
    {
        protected override int ReadAt(long position, Span<byte> destination)
        {
            var chunk = chunks[(int)(position / PartBufferPool.ChunkSize)];
            var within = (int)(position % PartBufferPool.ChunkSize);
            var count = (int)Math.Min(destination.Length, Math.Min(PartBufferPool.ChunkSize - within, Length - position));
            chunk.AsSpan(within, count).CopyTo(destination);
            return count;
        }
    }
}

/// <summary>A part held in a temporary file, deleted when the buffer is disposed (and by the start-up sweep after a crash).</summary>
internal sealed class FilePartBuffer : PartBuffer
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private FilePartBuffer(PartBufferPool pool, SafeFileHandle handle, string path)
        : base(pool)
    {
        _handle = handle;
        _path = path;
    }

    public static FilePartBuffer Create(PartBufferPool pool, string path)
    {
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, FileOptions.DeleteOnClose);
        return new FilePartBuffer(pool, handle, path);
    }

    public override async ValueTask<long> FillAsync(Stream source, long limit, CancellationToken cancellationToken)
    {
        long added = 0;
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(PartBufferPool.ChunkSize);
        try
        {
            while (Length < limit)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = (int)Math.Min(limit - Length, copy.Length);
                var read = await source.ReadAsync(copy.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                // A write into the page cache: synchronous, like the file store's appends (see Tus.Stores.File).
                RandomAccess.Write(_handle, copy.AsSpan(0, read), Length);
                Grew(read);
                added += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }

        return added;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        RandomAccess.Write(_handle, bytes.Span, Length);
        Grew(bytes.Length);
        return ValueTask.CompletedTask;
    }

    public override Stream OpenRead() => new HandleReadStream(_handle, Length);

    public override bool TryReset()
    {
        try
        {
            RandomAccess.SetLength(_handle, 0);
            Emptied();
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public override void Dispose()
    {
        Emptied();
        _handle.Dispose();
        try
        {
            File.Delete(_path); // DeleteOnClose did it already where supported
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Reads the file in blocks: the SDK reads an upload's body twice (the payload hash, then the send) in 8 KiB
    /// reads, and one system call per 8 KiB costs more CPU than the copy out of a block.</summary>
    private sealed class HandleReadStream(SafeFileHandle handle, long length) : ReadOnlySeekableStream(length)
    {
        private const int BlockSize = 256 * 1024;
        private byte[]? _block;
        private long _blockStart;
        private int _blockLength;

        protected override int ReadAt(long position, Span<byte> destination)
        {
            var wanted = (int)Math.Min(destination.Length, Length - position);
            if (wanted >= BlockSize)
            {
                return RandomAccess.Read(handle, destination[..wanted], position);
            }

            _block ??= System.Buffers.ArrayPool<byte>.Shared.Rent(BlockSize);
            if (position < _blockStart || position >= _blockStart + _blockLength)
            {
                _blockStart = position;
                _blockLength = RandomAccess.Read(handle, _block.AsSpan(0, (int)Math.Min(BlockSize, Length - position)), position);
                if (_blockLength == 0)
                {
                    return 0;
                }
            }

            var count = (int)Math.Min(wanted, _blockStart + _blockLength - position);
            _block.AsSpan((int)(position - _blockStart), count).CopyTo(destination);
            return count;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _block is { } block)
            {
                _block = null;
                _blockLength = 0;
                System.Buffers.ArrayPool<byte>.Shared.Return(block);
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A read-only, seekable stream over a fixed number of bytes, read by position.</summary>
internal abstract class ReadOnlySeekableStream(long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    protected abstract int ReadAt(long position, Span<byte> destination);

    public override int Read(Span<byte> buffer)
    {
        if (_position >= length || buffer.IsEmpty)
        {
            return 0;
        }

        var read = ReadAt(_position, buffer);
        _position += read;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
