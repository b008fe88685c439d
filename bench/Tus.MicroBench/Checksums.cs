using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Tus.Engine;

namespace Tus.MicroBench;

/// <summary>The checksum extension: parsing Upload-Checksum, then hashing a 1 MiB body as it streams through.</summary>
[MemoryDiagnoser]
public class Checksums
{
    private readonly byte[] _body = new byte[1024 * 1024];
    private string _header = string.Empty;

    [Params("md5", "sha1", "sha256")]
    public string Algorithm { get; set; } = "sha1";

    // md5 and sha1 are what tus clients send; they check integrity here, not security.
#pragma warning disable CA5350, CA5351
    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_body);
        var digest = Algorithm switch
        {
            "md5" => MD5.HashData(_body),
            "sha1" => SHA1.HashData(_body),
            _ => SHA256.HashData(_body),
        };
        _header = Algorithm + " " + Convert.ToBase64String(digest);
    }
#pragma warning restore CA5350, CA5351

    [Benchmark]
    public bool Parse() => Checksum.Parse(_header).Checksum is not null;

    /// <summary>Parse, hash 1 MiB in 4 KiB appends (as network segments arrive) and compare, as the engine does.</summary>
    [Benchmark]
    public bool HashOneMiB()
    {
        var checksum = Checksum.Parse(_header).Checksum!;
        using var hash = checksum.CreateHash();
        for (var offset = 0; offset < _body.Length; offset += 4096)
        {
            hash.AppendData(_body.AsSpan(offset, 4096));
        }

        return checksum.Matches(hash.GetHashAndReset());
    }
}
