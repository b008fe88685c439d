using System.Buffers.Binary;

namespace Tus.Conformance.Internal;

/// <summary>
/// Deterministic test data: byte <c>p</c> of the stream with seed <c>s</c> is <see cref="At"/>(s, p). Every aligned
/// group of eight bytes is a 64-bit mix (SplitMix64's finalizer) of the seed and the group's index, so the data never
/// repeats at any period a store could produce: a range shifted by any amount, a block written twice, or bytes from an
/// upload with another seed differ from the expected bytes within the first few bytes.
/// </summary>
internal static class Pattern
{
    public static byte At(int seed, long position) => (byte)(Word(seed, position >> 3) >> (int)((position & 7) * 8));

    public static void Fill(Span<byte> destination, int seed, long start)
    {
        var i = 0;

        // The head, up to the first aligned group.
        while (i < destination.Length && ((start + i) & 7) != 0)
        {
            destination[i] = At(seed, start + i);
            i++;
        }

        // Whole groups, eight bytes at a time.
        var group = (start + i) >> 3;
        for (; i + 8 <= destination.Length; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(i, 8), Word(seed, group++));
        }

        // The tail.
        for (; i < destination.Length; i++)
        {
            destination[i] = At(seed, start + i);
        }
    }

    public static byte[] Bytes(int seed, long start, int count)
    {
        var bytes = new byte[count];
        Fill(bytes, seed, start);
        return bytes;
    }

    /// <summary>The first position where <paramref name="actual"/> differs from the pattern, or -1.</summary>
    public static long FirstMismatch(ReadOnlySpan<byte> actual, int seed, long start)
    {
        Span<byte> expected = stackalloc byte[4096];
        for (var done = 0; done < actual.Length;)
        {
            var count = Math.Min(expected.Length, actual.Length - done);
            Fill(expected[..count], seed, start + done);
            var same = actual.Slice(done, count).CommonPrefixLength(expected[..count]);
            if (same < count)
            {
                return start + done + same;
            }

            done += count;
        }

        return -1;
    }

    /// <summary>Describes the bytes at a mismatch for a failure message: what was expected and what came back.</summary>
    public static string DescribeMismatch(ReadOnlySpan<byte> actual, int seed, long start, long mismatch)
    {
        var index = (int)(mismatch - start);
        var count = Math.Min(8, actual.Length - index);
        var expected = Bytes(seed, mismatch, count);
        return $"expected [{Convert.ToHexString(expected)}] but read [{Convert.ToHexString(actual.Slice(index, count))}]";
    }

    private static ulong Word(int seed, long group)
    {
        var x = unchecked(((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)group * 0xD1B54A32D192ED03UL) ^ 0x5851F42D4C957F2DUL);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return x ^ (x >> 31);
    }
}
