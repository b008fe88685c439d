using Microsoft.Win32.SafeHandles;

namespace Tus.Stores.Internal;

/// <summary>
/// A read-only view of exactly <c>length</c> bytes of a file, starting at <c>start</c>. It owns the file handle. A file
/// that turns out shorter than the range makes a read throw <see cref="EndOfStreamException"/> rather than end early.
/// </summary>
internal sealed class FileRangeStream : Stream
{
    private readonly SafeFileHandle _handle;
    private readonly long _start;
    private readonly long _length;
    private long _position;

    public FileRangeStream(SafeFileHandle handle, long start, long length)
    {
        _handle = handle;
        _start = start;
        _length = length;
    }

    public override bool CanRead => !_handle.IsClosed;

    public override bool CanSeek => !_handle.IsClosed;

    public override bool CanWrite => false;

    public override long Length
    {
        get
        {
            ThrowIfClosed();
            return _length;
        }
    }

    public override long Position
    {
        get
        {
            ThrowIfClosed();
            return _position;
        }

        set
        {
            ThrowIfClosed();
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer)
    {
        var count = NextCount(buffer.Length);
        if (count == 0)
        {
            return 0;
        }

        var read = RandomAccess.Read(_handle, buffer[..count], _start + _position);
        return Advance(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var count = NextCount(buffer.Length);
        if (count == 0)
        {
            return 0;
        }

        var read = await RandomAccess.ReadAsync(_handle, buffer[..count], _start + _position, cancellationToken).ConfigureAwait(false);
        return Advance(read);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        ThrowIfClosed();
        var position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (position < 0)
        {
            throw new IOException("Cannot seek before the beginning of the range.");
        }

        _position = position;
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException("The stream is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The stream is read-only.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }

    private int NextCount(int bufferLength)
    {
        ThrowIfClosed();
        var remaining = _length - _position;
        return remaining <= 0 ? 0 : (int)Math.Min(bufferLength, remaining);
    }

    private int Advance(int read)
    {
        if (read == 0)
        {
            throw new EndOfStreamException($"The file ended {_length - _position} bytes before the end of the requested range.");
        }

        _position += read;
        return read;
    }

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
}
