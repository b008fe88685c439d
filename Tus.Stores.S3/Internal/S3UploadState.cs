using System.Globalization;

namespace Tus.Stores.Internal;

/// <summary>
/// One commit record of an unfinished upload: the object <c>{ObjectPrefix}{id}.tail.{Generation}.{Parts}.{PartBytes}</c>.
/// Its name says which parts of the multipart upload belong to the upload (numbers 1 to <see cref="Parts"/>, holding
/// <see cref="PartBytes"/> bytes); its content is the bytes after them that are too few for a part of their own.
/// </summary>
/// <remarks>Written last by every change, with a new generation, so it is what makes a change count: parts uploaded by
/// a change that never wrote its record (a crash, a failure, a body that failed its checksum) are ignored, and the next
/// append uploads over them.</remarks>
internal readonly record struct TailRecord(long Generation, int Parts, long PartBytes, long Size, string Key)
{
    public const string Marker = ".tail.";

    /// <summary>The upload's offset when this record is the current one.</summary>
    public long End => PartBytes + Size;

    public static string KeyOf(string dataKey, long generation, int parts, long partBytes) => string.Concat(
        dataKey,
        Marker,
        generation.ToString("D10", CultureInfo.InvariantCulture),
        ".",
        parts.ToString("D5", CultureInfo.InvariantCulture),
        ".",
        partBytes.ToString("D15", CultureInfo.InvariantCulture));

    /// <summary>Parses a key found under the upload's data key; <see langword="null"/> when it is no record of it.</summary>
    public static TailRecord? TryParse(string dataKey, string key, long size)
    {
        if (key.Length <= dataKey.Length + Marker.Length || !key.StartsWith(dataKey, StringComparison.Ordinal)
            || string.CompareOrdinal(key, dataKey.Length, Marker, 0, Marker.Length) != 0)
        {
            return null;
        }

        var fields = key.AsSpan(dataKey.Length + Marker.Length);
        Span<Range> ranges = stackalloc Range[4];
        if (fields.Split(ranges, '.') != 3
            || !long.TryParse(fields[ranges[0]], NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            || !int.TryParse(fields[ranges[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var parts)
            || !long.TryParse(fields[ranges[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var partBytes)
            || (parts == 0) != (partBytes == 0))
        {
            return null;
        }

        return new TailRecord(generation, parts, partBytes, size, key);
    }
}

/// <summary>
/// What one lookup found (the info document, the final object, the commit records), carried in
/// <see cref="UploadInfo.StoreState"/> for the rest of the request and updated in place by the calls that change the upload.
/// </summary>
internal sealed class S3UploadState
{
    public S3UploadState(UploadInfoDocument document, long? finalSize, List<TailRecord> records)
    {
        Document = document;
        FinalSize = finalSize;
        Records = records;
        Records.Sort(static (a, b) => a.Generation.CompareTo(b.Generation));
    }

    public UploadInfoDocument Document { get; set; }

    /// <summary>The size of the final object <c>{ObjectPrefix}{id}</c>, or <see langword="null"/> while there is none:
    /// the upload is finished exactly when it exists.</summary>
    public long? FinalSize { get; set; }

    /// <summary>The commit records found, oldest first: the last is the current one, the one before it is kept so the last
    /// append can be taken back, older ones are left-overs deleted by the next change.</summary>
    public List<TailRecord> Records { get; }

    public TailRecord? Current => Records.Count == 0 ? null : Records[^1];

    public TailRecord? Previous => Records.Count < 2 ? null : Records[^2];

    public long NextGeneration => Records.Count == 0 ? 1 : Records[^1].Generation + 1;

    /// <summary>The upload's offset: the final object's size, else the current record's end.</summary>
    public long Offset => FinalSize ?? Current?.End ?? 0;
}
