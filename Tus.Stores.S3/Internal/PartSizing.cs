namespace Tus.Stores.Internal;

/// <summary>
/// Chooses the size of each part of one multipart upload so that the most bytes it may have to hold fit in
/// <see cref="S3StoreOptions.MaxParts"/> parts, while small uploads keep the preferred size.
/// </summary>
/// <remarks>
/// Parts may differ in size. Up to <c>PreferredPartSize * MaxParts</c> bytes every part has the preferred size. Beyond
/// that the size doubles every tenth of <c>MaxParts</c> (16 MiB parts cover 16 TiB that way), so a deferred-length upload
/// does not buffer huge parts from its first byte; when even that does not reach, every part has the size
/// <c>ceil(maxBytes / MaxParts)</c>. Sizes are whole MiB, between the minimum and the maximum part size.
/// </remarks>
internal readonly struct PartSizing
{
    private const long MiB = 1024 * 1024;
    private readonly long _fixed;
    private readonly long _first;
    private readonly int _tier;
    private readonly long _max;

    private PartSizing(long fixedSize, long first, int tier, long max)
    {
        _fixed = fixedSize;
        _first = first;
        _tier = tier;
        _max = max;
    }

    /// <summary>The sizing for a multipart upload that may have to hold up to <paramref name="maxBytes"/> bytes.</summary>
    public static PartSizing For(long minPartSize, long preferredPartSize, long maxPartSize, int maxParts, long maxBytes)
    {
        var preferred = Math.Clamp(RoundUp(preferredPartSize), minPartSize, maxPartSize);
        if (maxBytes <= (double)preferred * maxParts)
        {
            return new PartSizing(preferred, 0, 0, maxPartSize);
        }

        var tier = Math.Max(1, maxParts / 10);
        if (Capacity(preferred, tier, maxPartSize, maxParts) >= maxBytes)
        {
            return new PartSizing(0, preferred, tier, maxPartSize);
        }

        var even = Math.Clamp(RoundUp((maxBytes + maxParts - 1) / maxParts), minPartSize, maxPartSize);
        return new PartSizing(even, 0, 0, maxPartSize);
    }

    /// <summary>The size of part <paramref name="partNumber"/> (1-based).</summary>
    public long SizeOf(int partNumber)
    {
        if (_fixed > 0)
        {
            return _fixed;
        }

        var doublings = Math.Min(30, (partNumber - 1) / _tier);
        return Math.Min(_max, (double)_first * (1L << doublings) >= _max ? _max : _first << doublings);
    }

    /// <summary>The total bytes <paramref name="parts"/> parts of this sizing hold.</summary>
    public double CapacityOf(int parts)
    {
        double total = 0;
        for (var i = 1; i <= parts; i++)
        {
            total += SizeOf(i);
        }

        return total;
    }

    private static double Capacity(long first, int tier, long max, int maxParts) =>
        new PartSizing(0, first, tier, max).CapacityOf(maxParts);

    private static long RoundUp(long size) => (size + MiB - 1) / MiB * MiB;
}
