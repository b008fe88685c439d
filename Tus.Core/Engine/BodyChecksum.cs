using System.Security.Cryptography;
using Tus.Http;
using Tus.Protocol;

namespace Tus.Engine;

/// <summary>
/// Verifies one request body against the client's checksum as it streams to the store, so that the verdict is known
/// when the body ends, before the store sees that end. With the <c>Upload-Checksum</c> header the algorithm is known
/// up front and one hash runs. With a trailer (the checksum-trailer extension) it is known only after the body, so the
/// body is hashed with every supported algorithm at once: the alternative, reading the stored bytes back, does not work
/// for a store that cannot read an unfinished upload (an S3 multipart upload's parts cannot be read).
/// </summary>
internal sealed class BodyChecksum : IDisposable
{
    private readonly Checksum? _header;
    private readonly TusRequest? _trailerSource;
    private readonly IncrementalHash[] _hashes;

    private BodyChecksum(Checksum? header, TusRequest? trailerSource, IncrementalHash[] hashes)
    {
        _header = header;
        _trailerSource = trailerSource;
        _hashes = hashes;
    }

    /// <summary>Verifies the body against the checksum the client sent in the header.</summary>
    public static BodyChecksum FromHeader(Checksum checksum) => new(checksum, null, [checksum.CreateHash()]);

    /// <summary>Verifies the body against the checksum the client will send in the trailer of <paramref name="request"/>.</summary>
    public static BodyChecksum FromTrailer(TusRequest request)
    {
        var hashes = new IncrementalHash[Checksum.AlgorithmCount];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = IncrementalHash.CreateHash(Checksum.AlgorithmAt(i));
        }

        return new BodyChecksum(null, request, hashes);
    }

    /// <summary>Hashes the next bytes of the body (allocation-free).</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        foreach (var hash in _hashes)
        {
            hash.AppendData(data);
        }
    }

    /// <summary>Checks the whole body, once it has ended.</summary>
    /// <returns><see langword="null"/> when it matches; otherwise the error to answer a complete body with.</returns>
    public TusError? Verify()
    {
        if (_header is not null)
        {
            return Matches(_hashes[0], _header) ? null : TusError.ChecksumMismatch;
        }

        // Trailers are readable only now that the body has been read to its end.
        var trailer = _trailerSource!.GetTrailer(TusHeaders.UploadChecksum);
        if (trailer is null)
        {
            return TusError.InvalidChecksum;
        }

        var (parsed, error) = Checksum.Parse(trailer);
        if (parsed is null)
        {
            return error;
        }

        return Matches(_hashes[parsed.AlgorithmIndex], parsed) ? null : TusError.ChecksumMismatch;
    }

    private static bool Matches(IncrementalHash hash, Checksum expected)
    {
        Span<byte> actual = stackalloc byte[Checksum.MaxDigestSize];
        return hash.TryGetHashAndReset(actual, out var written) && expected.Matches(actual[..written]);
    }

    public void Dispose()
    {
        foreach (var hash in _hashes)
        {
            hash.Dispose();
        }
    }
}
