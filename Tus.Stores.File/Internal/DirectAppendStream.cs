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
/// <para>Two aligned 1 MiB buffers take turns: while one is written to the device on the thread pool, the body fills
/// the other, so receiving and writing overlap as they do with the page cache.</para>
/// <para>The file only ever grows by bytes of the body, in order: one direct write is in flight at a time, each a whole
/// number of blocks of real data at the file's end, and the unaligned rest goes through the ordinary descriptor, so the
/// file's length (the upload's offset) is never padded and never ahead of the data, even across a crash.</para>
/// <para><see cref="CompleteAsync"/> writes whatever is buffered; the store calls it after the copy ends, successfully
/// or not, so that every byte received is kept.</para>
/// </remarks>
internal sealed partial class DirectAppendStream : Stream
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
    private nint _filling; // aligned native buffers (a pointer each): async methods cannot hold pointers
    private nint _spare;
    private int _filled;
    private long _fillingStart;
    private Task? _inFlight;
    private long _inFlightEnd;

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

    /// <summary>The file's length: after <see cref="CompleteAsync"/>, where the append ended.</summary>
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
            buffer = Take(buffer);
            if (_filled == BufferSize)
            {
                AwaitInFlightAsync().AsTask().GetAwaiter().GetResult();
                Submit();
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (!buffer.IsEmpty)
        {
            var rest = Take(buffer.Span);
            buffer = buffer[^rest.Length..];
            if (_filled == BufferSize)
            {
                await AwaitInFlightAsync().ConfigureAwait(false);
                Submit();
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Writes what is buffered (whole blocks directly, the unaligned rest the ordinary way) and waits for it.</summary>
    public async ValueTask CompleteAsync()
    {
        await AwaitInFlightAsync().ConfigureAwait(false);
        if (_direct is null || _filled == 0)
        {
            return;
        }

        var whole = _filled & ~(BlockSize - 1);
        if (whole > 0)
        {
            WriteFully(_direct, _filling, whole, _fillingStart);
            _fillingStart += whole;
            _end = Math.Max(_end, _fillingStart);
        }

        // Only the bytes past the file's end are new: the first ones may be the re-read head of its last block.
        var tail = _filled - whole;
        var skip = (int)Math.Max(0, _end - _fillingStart);
        if (tail > skip)
        {
            RandomAccess.Write(_file, Native(_filling + whole + skip, tail - skip), _end);
            _end = _fillingStart + tail;
        }

        _fillingStart = _end;
        _filled = 0;
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
        // A write still in flight (the store failed before CompleteAsync) must finish before its buffer is freed.
        try
        {
            _inFlight?.GetAwaiter().GetResult();
        }
        catch (IOException)
        {
            // Already reported, or about to be, by the caller's own failure.
        }

        _inFlight = null;
        _direct?.Dispose();
        _direct = null;
        if (_filling != 0)
        {
            Free(_filling);
            Free(_spare);
            _filling = 0;
            _spare = 0;
        }

        base.Dispose(disposing);
    }

    /// <summary>Writes the start of <paramref name="buffer"/> the ordinary way or into the filling buffer; returns the rest.</summary>
    private ReadOnlySpan<byte> Take(ReadOnlySpan<byte> buffer)
    {
        if (_direct is null && !TryStartDirect())
        {
            // Ordinary writes up to the threshold (or for good, when direct writes are unavailable).
            var ordinary = _directUnavailable ? buffer.Length : (int)Math.Min(buffer.Length, Math.Max(1, _threshold - _appended));
            RandomAccess.Write(_file, buffer[..ordinary], _end);
            _end += ordinary;
            _appended += ordinary;
            return buffer[ordinary..];
        }

        var taken = Math.Min(buffer.Length, BufferSize - _filled);
        buffer[..taken].CopyTo(Native(_filling + _filled, taken));
        _filled += taken;
        _appended += taken;
        return buffer[taken..];
    }

    /// <summary>Starts writing the full filling buffer on the thread pool and swaps the buffers.</summary>
    private void Submit()
    {
        var direct = _direct!;
        var buffer = _filling;
        var offset = _fillingStart;
        _inFlight = Task.Run(() => WriteFully(direct, buffer, BufferSize, offset));
        _inFlightEnd = offset + BufferSize;
        (_filling, _spare) = (_spare, _filling);
        _fillingStart += BufferSize;
        _filled = 0;
    }

    private async ValueTask AwaitInFlightAsync()
    {
        if (_inFlight is { } write)
        {
            _inFlight = null;
            await write.ConfigureAwait(false);
            _end = Math.Max(_end, _inFlightEnd);
        }
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
        _filling = Allocate();
        _spare = Allocate();

        // Direct writes start at a block boundary: the head of the file's last, partly filled block is read back into
        // the buffer and written again with what follows it.
        _fillingStart = _end & ~(long)(BlockSize - 1);
        _filled = (int)(_end - _fillingStart);
        if (_filled > 0)
        {
            // The append's own descriptor is write-only.
            using var reader = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var head = Native(_filling, _filled);
            var read = 0;
            while (read < _filled)
            {
                var count = RandomAccess.Read(reader, head[read..], _fillingStart + read);
                if (count == 0)
                {
                    throw new IOException($"The data file '{_path}' is shorter than the {_end} bytes it held a moment ago.");
                }

                read += count;
            }
        }

        return true;
    }

    private static unsafe Span<byte> Native(nint pointer, int length) => new((void*)pointer, length);

    private static unsafe nint Allocate() => (nint)NativeMemory.AlignedAlloc(BufferSize, BlockSize);

    private static unsafe void Free(nint pointer) => NativeMemory.AlignedFree((void*)pointer);

    private static void WriteFully(SafeFileHandle handle, nint source, int count, long offset)
    {
        var written = 0;
        while (written < count)
        {
            var result = PositionalWrite(handle, source + written, (nuint)(count - written), offset + written);
            if (result >= 0)
            {
                written += (int)result;
                continue;
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
    private static partial nint PositionalWrite(SafeFileHandle handle, nint buffer, nuint count, long offset);
}
