using System.Security.Cryptography;
using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Engine;

public sealed class ChecksumTests
{
    private static readonly byte[] Data = "checksummed bytes"u8.ToArray();

    public static TheoryData<string, byte[]> Algorithms => new()
    {
        { "md5", MD5.HashData(Data) },
        { "sha1", SHA1.HashData(Data) },
        { "sha256", SHA256.HashData(Data) },
        { "sha512", SHA512.HashData(Data) },
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Patch_MatchingChecksum_IsStored(string algorithm, byte[] digest)
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(100);

        var response = await harness.PatchAsync(id, 0, Data, r => r.Header("Upload-Checksum", $"{algorithm} {Convert.ToBase64String(digest)}"));

        response.StatusCode.Should().Be(204);
        harness.Store.DataOf(id).Should().Equal(Data);
    }

    [Fact]
    public async Task Patch_MismatchingChecksum_Answers460AndDiscardsOnlyThatRequest()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(100);
        await harness.PatchAsync(id, 0, "kept"u8.ToArray());

        var response = await harness.PatchAsync(id, 4, Data, r => r.Header("Upload-Checksum", "sha1 " + Convert.ToBase64String(SHA1.HashData("other"u8))));

        response.StatusCode.Should().Be(460);
        response.Error!.Code.Should().Be("ERR_CHECKSUM_MISMATCH");
        harness.Store.DataOf(id).Should().Equal("kept"u8.ToArray());
        (await harness.HeadAsync(id)).GetHeader("Upload-Offset").Should().Be("4");
    }

    [Theory]
    [InlineData("crc32 AAAAAA==", "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM")]
    [InlineData("sha1", "ERR_INVALID_CHECKSUM")]
    [InlineData("sha1 not-base64", "ERR_INVALID_CHECKSUM")]
    [InlineData("sha1 AAAA", "ERR_INVALID_CHECKSUM")]
    public async Task Patch_BadChecksumHeader_Answers400(string header, string code)
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(100);

        var response = await harness.PatchAsync(id, 0, Data, r => r.Header("Upload-Checksum", header));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be(code);
        harness.Store.DataOf(id).Should().BeEmpty();
    }

    [Fact]
    public async Task Patch_ChecksumInTrailer_IsVerified()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(100);
        var good = Convert.ToBase64String(SHA256.HashData(Data));

        var matching = await harness.PatchAsync(id, 0, Data, r => r.Header("Trailer", "Upload-Checksum").Trailer("Upload-Checksum", "sha256 " + good));
        var mismatching = await harness.PatchAsync(id, Data.Length, Data, r => r.Header("Trailer", "Upload-Checksum").Trailer("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData("x"u8))));
        var missing = await harness.PatchAsync(id, Data.Length, Data, r => r.Header("Trailer", "Upload-Checksum"));

        matching.StatusCode.Should().Be(204);
        mismatching.StatusCode.Should().Be(460);
        missing.StatusCode.Should().Be(400);
        harness.Store.DataOf(id).Should().Equal(Data);
    }

    [Fact]
    public async Task Patch_ChecksummedBodyCutShort_DiscardsTheUnverifiedBytes()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(100);
        var request = new TestRequest("PATCH", id, new BreakingStream(Data), 100).OffsetStream().Header("Upload-Offset", "0")
            .Header("Upload-Checksum", "sha1 " + Convert.ToBase64String(SHA1.HashData(Data)));

        await harness.SendAsync(request);

        harness.Store.DataOf(id).Should().BeEmpty();
    }

    [Fact]
    public async Task Post_WithBodyAndMismatchingChecksum_Answers460ButUploadExists()
    {
        var harness = EngineHarness.Create();
        var request = TestRequest.WithBytes("POST", "", Data).OffsetStream().Header("Upload-Length", "100")
            .Header("Upload-Checksum", "md5 " + Convert.ToBase64String(MD5.HashData("x"u8)));

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(460);
        var id = EngineHarness.IdOf(response);
        harness.Store.DataOf(id).Should().BeEmpty();
    }

    [Fact]
    public async Task Patch_ChecksumWhenStoreCannotDiscard_HeaderIsIgnored()
    {
        var harness = EngineHarness.Create(store: new InMemoryStore { HasChecksum = false });
        var id = await harness.CreateAsync(100);

        var response = await harness.PatchAsync(id, 0, Data, r => r.Header("Upload-Checksum", "sha1 " + Convert.ToBase64String(SHA1.HashData("x"u8))));

        response.StatusCode.Should().Be(204);
    }
}
