using System.Security.Cryptography;
using Tus.Protocol;

namespace Tus.Engine;

/// <summary>A parsed Upload-Checksum value: an algorithm the engine supports and the digest the client expects.</summary>
internal sealed class Checksum
{
    /// <summary>The algorithms the engine supports, by their tus names, with their digest sizes in bytes.</summary>
    private static readonly (string Name, HashAlgorithmName Algorithm, int Size)[] Supported =
    [
        ("md5", HashAlgorithmName.MD5, 16),
        ("sha1", HashAlgorithmName.SHA1, 20),
        ("sha256", HashAlgorithmName.SHA256, 32),
        ("sha512", HashAlgorithmName.SHA512, 64),
    ];

    /// <summary>The largest digest of a supported algorithm, in bytes.</summary>
    public const int MaxDigestSize = 64;

    private Checksum(HashAlgorithmName algorithm, byte[] expected)
    {
        Algorithm = algorithm;
        Expected = expected;
    }

    /// <summary>How many algorithms are supported; each has an index below this, see <see cref="AlgorithmAt"/>.</summary>
    public static int AlgorithmCount => Supported.Length;

    public HashAlgorithmName Algorithm { get; }

    /// <summary>The index of <see cref="Algorithm"/> among the supported algorithms.</summary>
    public int AlgorithmIndex => IndexOf(Algorithm);

    public byte[] Expected { get; }

    /// <summary>The supported algorithm at <paramref name="index"/>.</summary>
    public static HashAlgorithmName AlgorithmAt(int index) => Supported[index].Algorithm;

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
        var index = Array.FindIndex(Supported, s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            return (null, TusError.UnsupportedChecksumAlgorithm);
        }

        var (_, algorithm, size) = Supported[index];
        var digest = new byte[size + 3];
        if (!Convert.TryFromBase64String(trimmed[(space + 1)..].Trim(), digest, out var written) || written != size)
        {
            return (null, TusError.InvalidChecksum);
        }

        return (new Checksum(algorithm, digest[..size]), null);
    }

    private static int IndexOf(HashAlgorithmName algorithm)
    {
        for (var i = 0; i < Supported.Length; i++)
        {
            if (Supported[i].Algorithm == algorithm)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not a supported checksum algorithm.");
    }
}
