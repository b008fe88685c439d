using System.Security.Cryptography;
using Tus.Protocol;

namespace Tus.Engine;

/// <summary>A parsed Upload-Checksum value: an algorithm the engine supports and the digest the client expects.</summary>
internal sealed class Checksum
{
    private Checksum(HashAlgorithmName algorithm, byte[] expected)
    {
        Algorithm = algorithm;
        Expected = expected;
    }

    public HashAlgorithmName Algorithm { get; }

    public byte[] Expected { get; }

    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(Algorithm);

    public bool Matches(ReadOnlySpan<byte> actual) => CryptographicOperations.FixedTimeEquals(actual, Expected);

    /// <summary>Parses "&lt;algorithm&gt; &lt;base64 digest&gt;".</summary>
    /// <returns>The checksum, or the error to answer with.</returns>
    public static (Checksum? Checksum, TusError? Error) Parse(string value)
    {
        var trimmed = value.Trim();
        var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return (null, TusError.InvalidChecksum);
        }

        var name = trimmed[..space];
        var (algorithm, size) = name.ToLowerInvariant() switch
        {
            "md5" => (HashAlgorithmName.MD5, 16),
            "sha1" => (HashAlgorithmName.SHA1, 20),
            "sha256" => (HashAlgorithmName.SHA256, 32),
            "sha512" => (HashAlgorithmName.SHA512, 64),
            _ => (default, 0),
        };
        if (size == 0)
        {
            return (null, TusError.UnsupportedChecksumAlgorithm);
        }

        var digest = new byte[size + 3];
        if (!Convert.TryFromBase64String(trimmed[(space + 1)..].Trim(), digest, out var written) || written != size)
        {
            return (null, TusError.InvalidChecksum);
        }

        return (new Checksum(algorithm, digest[..size]), null);
    }
}
