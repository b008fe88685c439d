namespace Tus.Stores.Internal;

/// <summary>One data object of an upload: the bytes <c>[Start, Start + Size)</c>.</summary>
internal readonly record struct Segment(long Start, long Size, string Key)
{
    public long End => Start + Size;
}

/// <summary>
/// What one lookup found (the info document and the data objects), carried in <see cref="UploadInfo.StoreState"/> for
/// the rest of the request and updated in place by the calls that change the upload.
/// </summary>
internal sealed class S3UploadState
{
    public S3UploadState(UploadInfoDocument document, List<Segment> segments, List<string> garbage)
    {
        Document = document;
        Segments = segments;
        Garbage = garbage;
    }

    public UploadInfoDocument Document { get; set; }

    /// <summary>The data objects that make up the upload, contiguous from offset 0, ordered by offset.</summary>
    public List<Segment> Segments { get; }

    /// <summary>Data objects of this upload that are not part of it (left by an interrupted rewrite): deleted by the next change.</summary>
    public List<string> Garbage { get; }

    /// <summary>The upload's offset: the end of its last data object.</summary>
    public long Offset => Segments.Count == 0 ? 0 : Segments[^1].End;

    /// <summary>
    /// Orders the data objects found and keeps the chain that starts at 0: an object that starts inside the chain is a
    /// leftover of a rewrite (a joined tail, an assembly), one after a gap is a leftover of an interrupted discard.
    /// </summary>
    public static (List<Segment> Chain, List<string> Garbage) Chain(List<Segment> found)
    {
        found.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var chain = new List<Segment>(found.Count);
        var garbage = new List<string>();
        long expected = 0;
        var broken = false;
        foreach (var segment in found)
        {
            if (!broken && segment.Start == expected)
            {
                chain.Add(segment);
                expected = segment.End;
            }
            else if (!broken && segment.Start < expected)
            {
                garbage.Add(segment.Key);
            }
            else
            {
                broken = true;
                garbage.Add(segment.Key);
            }
        }

        return (chain, garbage);
    }
}
