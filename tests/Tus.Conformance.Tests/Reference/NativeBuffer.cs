using System.Runtime.InteropServices;

namespace Tus.Conformance.Tests.Reference;

/// <summary>
/// A growable byte buffer in native memory (1 MiB blocks). The reference store keeps upload data here rather than in
/// managed arrays, so that streaming a large body into it allocates nothing on the GC heap, as a store writing to disk or
/// to the network would. Not thread-safe: the store guards it.
/// </summary>
internal sealed unsafe class NativeBuffer : IDisposable
{
    private const int BlockSize = 1024 * 1024;
    private readonly List<nint> _blocks = [];

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var block = (int)(Length / BlockSize);
            var within = (int)(Length % BlockSize);
            if (block == _blocks.Count)
            {
                _blocks.Add((nint)NativeMemory.Alloc(BlockSize));
            }

            var count = Math.Min(data.Length, BlockSize - within);
            data[..count].CopyTo(new Span<byte>((byte*)_blocks[block] + within, count));
            Length += count;
            data = data[count..];
        }
    }

    /// <summary>Copies bytes from <paramref name="position"/> into <paramref name="destination"/>; returns how many.</summary>
    public int Read(long position, Span<byte> destination)
    {
        var total = (int)Math.Max(0, Math.Min(destination.Length, Length - position));
        var copied = 0;
        while (copied < total)
        {
            var block = (int)((position + copied) / BlockSize);
            var within = (int)((position + copied) % BlockSize);
            var count = Math.Min(total - copied, BlockSize - within);
            new ReadOnlySpan<byte>((byte*)_blocks[block] + within, count).CopyTo(destination[copied..]);
            copied += count;
        }

        return total;
    }

    public void Truncate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
        var needed = (int)((length + BlockSize - 1) / BlockSize);
        while (_blocks.Count > needed)
        {
            NativeMemory.Free((void*)_blocks[^1]);
            _blocks.RemoveAt(_blocks.Count - 1);
        }
    }

    public void Dispose() => Truncate(0);
}
