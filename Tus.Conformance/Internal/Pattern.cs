namespace Tus.Conformance.Internal;

/// <summary>
/// Deterministic test data: byte <c>p</c> of the stream with seed <c>s</c> is <see cref="At"/>(s, p). The period (251, a
/// prime) is not a power of two, so a range shifted by any small amount, or data from another seed, never matches.
/// </summary>
internal static class Pattern
{
    public static byte At(int seed, long position) => (byte)((position + (seed * 101L)) % 251);

    public static void Fill(Span<byte> destination, int seed, long start)
    {
        var value = (int)((start + (seed * 101L)) % 251);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (byte)value;
            value = value == 250 ? 0 : value + 1;
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
        var value = (int)((start + (seed * 101L)) % 251);
        for (var i = 0; i < actual.Length; i++)
        {
            if (actual[i] != value)
            {
                return start + i;
            }

            value = value == 250 ? 0 : value + 1;
        }

        return -1;
    }
}
