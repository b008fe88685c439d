using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tus.Stores.Internal;

/// <summary>
/// The write side of an append: writes go to the data file through its ordinary descriptor until the append has
/// written <c>threshold</c> bytes; from there on (Linux only) whole 4 KiB-aligned blocks bypass the page cache through a
/// second descriptor opened with <c>O_DIRECT</c>. A large stream then costs the kernel no copy into the page cache and
/// no write-back later, which is most of a file upload's CPU; small appends never pay a device round trip.
/// </summary>
/// <remarks>
/// <para>The file only ever grows by bytes of the body, in order: direct writes are whole blocks of real data at the
/// file's end, and the unaligned rest goes through the ordinary descriptor, so the file's length (the upload's
/// offset) is never padded and never ahead of the data, even across a crash.</para>
/// <para><see cref="Complete"/> writes whatever is buffered; the store calls it after the copy ends, successfully or
/// not, so that every byte received is kept.</para>
/// </remarks>
internal sealed unsafe partial class DirectAppendStream : Stream
{
    private const int BlockSize = 4096;
    private const int BufferSize = 1024 * 1024;

    private readonly SafeFileHandle _file;
    private readonly string _path;
    private readonly long _threshold;
    private long _end;
    private long _appended;
    private SafeFileHandle? _direct;
    private bool _directUnavailable;
    private byte* _buffer;
    private int _filled;
    private long _bufferStart;

    /// <param name="file">The data file's ordinary descriptor, opened for writing.</param>
    /// <param name="path">The data file's path, to open the direct descriptor.</param>
    /// <param name="end">The file's length: where the append starts.</param>
    /// <param name="threshold">Bytes written the ordinary way before switching to direct writes.</param>
    public DirectAppendStream(SafeFileHandle file, string path, long end, long threshold)
    {
        _file = file;
        _path = path;
        _end = end;
        _threshold = threshold;
    }

    /// <summary>Whether direct writes can be used here at all: Linux, and a CPU whose O_DIRECT flag value is known.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && DirectFlag != 0;

    /// <summary>The file's length: after <see cref="Complete"/>, where the append ended.</summary>
    public long End => _end;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    private static int DirectFlag => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => 0,
    };

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (_direct is null && !TryStartDirect())
            {
                // Ordinary writes up to the threshold (or for good, when direct writes are unavailable).
                var ordinary = _directUnavailable ? buffer.Length : (int)Math.Min(buffer.Length, Math.Max(1, _threshold - _appended));
                RandomAccess.Write(_file, buffer[..ordinary], _end);
                _end += ordinary;
                _appended += ordinary;
                buffer = buffer[ordinary..];
                continue;
            }

            var taken = Math.Min(buffer.Length, BufferSize - _filled);
            buffer[..taken].CopyTo(new Span<byte>(_buffer + _filled, taken));
            _filled += taken;
            _appended += taken;
            buffer = buffer[taken..];
            if (_filled == BufferSize)
            {
                WriteDirect(BufferSize);
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Writes what is buffered: whole blocks directly, the unaligned rest the ordinary way.</summary>
    public void Complete()
    {
        if (_direct is null || _filled == 0)
        {
            return;
        }

        var whole = _filled & ~(BlockSize - 1);
        if (whole > 0)
        {
            WriteDirect(whole);
        }

        if (_filled > 0)
        {
            // Only the bytes past the file's end are new; the first ones may be the re-read head of the last block.
            var skip = (int)(_end - _bufferStart);
            RandomAccess.Write(_file, new ReadOnlySpan<byte>(_buffer + skip, _filled - skip), _end);
            _end = _bufferStart + _filled;
            _bufferStart = _end;
            _filled = 0;
        }
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _direct?.Dispose();
        _direct = null;
        if (_buffer is not null)
        {
            NativeMemory.AlignedFree(_buffer);
            _buffer = null;
        }

        base.Dispose(disposing);
    }

    private bool TryStartDirect()
    {
        if (_directUnavailable || _appended < _threshold)
        {
            return false;
        }

        var fd = OpenDirect(_path, OWriteOnly | OCloseOnExec | DirectFlag);
        if (fd < 0)
        {
            // EINVAL: the file system has no direct I/O (tmpfs, some FUSE and network file systems).
            _directUnavailable = true;
            return false;
        }

        _direct = new SafeFileHandle(fd, ownsHandle: true);
        _buffer = (byte*)NativeMemory.AlignedAlloc(BufferSize, BlockSize);

        // Direct writes start at a block boundary: the head of the file's last, partly filled block is read back into
        // the buffer and written again with what follows it.
        _bufferStart = _end & ~(long)(BlockSize - 1);
        _filled = (int)(_end - _bufferStart);
        if (_filled > 0)
        {
            // The append's own descriptor is write-only.
            using var reader = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var head = new Span<byte>(_buffer, _filled);
            var read = 0;
            while (read < _filled)
            {
                var count = RandomAccess.Read(reader, head[read..], _bufferStart + read);
                if (count == 0)
                {
                    throw new IOException($"The data file '{_path}' is shorter than the {_end} bytes it held a moment ago.");
                }

                read += count;
            }
        }

        return true;
    }

    private void WriteDirect(int count)
    {
        var written = 0;
        while (written < count)
        {
            written += (int)WriteAt(_direct!, _buffer + written, count - written, _bufferStart + written);
        }

        _bufferStart += count;
        _end = Math.Max(_end, _bufferStart);
        var rest = _filled - count;
        if (rest > 0)
        {
            Buffer.MemoryCopy(_buffer + count, _buffer, BufferSize, rest);
        }

        _filled = rest;
    }

    private static long WriteAt(SafeFileHandle handle, byte* source, int count, long offset)
    {
        while (true)
        {
            var written = PositionalWrite(handle, source, (nuint)count, offset);
            if (written >= 0)
            {
                return written;
            }

            // The errno goes into HResult as .NET's own file I/O does on Unix, so the disk-full check sees ENOSPC.
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw new IOException($"A direct write to the data file failed (errno {errno}).", errno);
            }
        }
    }

    private const int OWriteOnly = 0x1;
    private const int OCloseOnExec = 0x80000;
    private const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenDirect(string path, int flags);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint PositionalWrite(SafeFileHandle handle, byte* buffer, nuint count, long offset);
}
