using System.Security.Cryptography;
using Tus.Core.Tests.Infrastructure;
using Tus.Stores;

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

    [Fact]
    public async Task Patch_MismatchingChecksum_TheStoreSeesChecksumMismatchExceptionAndTheOffsetStays()
    {
        using var harness = FaultHarness.Create();
        var id = await harness.CreateAsync(100);
        await harness.SendAsync(FaultHarness.Patch(id, 0, "kept"u8.ToArray()));
        Exception? seen = null;
        harness.Store.Append = async (upload, data, token) =>
        {
            try
            {
                return await harness.Store.Inner.AppendAsync(upload, data, token);
            }
            catch (Exception exception)
            {
                seen = exception;
                throw;
            }
        };

        var response = await harness.SendAsync(FaultHarness.Patch(id, 4, Data).Header("Upload-Checksum", "sha1 " + Convert.ToBase64String(SHA1.HashData("other"u8))));

        response.StatusCode.Should().Be(460);
        response.Error!.Code.Should().Be("ERR_CHECKSUM_MISMATCH");
        response.GetHeader("Upload-Offset").Should().Be("4");
        seen.Should().BeOfType<ChecksumMismatchException>();
        harness.Store.Inner.DataOf(id).Should().Equal("kept"u8.ToArray());
        (await harness.HeadAsync(id)).GetHeader("Upload-Offset").Should().Be("4");
    }

    [Fact]
    public async Task Patch_MismatchingChecksumToAStoreThatKeepsNothing_Answers460WithoutADiscard()
    {
        using var harness = FaultHarness.Create();
        var id = await harness.CreateAsync(100);
        // A store that commits only a body that ended cleanly, as an S3 multipart store does.
        harness.Store.Append = async (upload, data, token) =>
        {
            using var buffered = new MemoryStream();
            await data.CopyToAsync(buffered, token);
            buffered.Position = 0;
            return await harness.Store.Inner.AppendAsync(upload, buffered, token);
        };

        var response = await harness.SendAsync(FaultHarness.Patch(id, 0, Data).Header("Upload-Checksum", "md5 " + Convert.ToBase64String(MD5.HashData("x"u8))));

        response.StatusCode.Should().Be(460);
        response.GetHeader("Upload-Offset").Should().Be("0");
        harness.Store.Inner.DataOf(id).Should().BeEmpty();
        harness.Log.Entries.Should().NotContain("DiscardFrom");
    }

    [Fact]
    public async Task Patch_MismatchingChecksumToAStoreThatSwallowsTheException_StillDiscards()
    {
        // Writes the bytes as they arrive, so it holds some when the body's end is refused.
        using var harness = FaultHarness.Create(inner: new InMemoryStore { ReadInSmallBuffers = true });
        var id = await harness.CreateAsync(100);
        harness.Store.Append = async (upload, data, token) =>
        {
            var before = harness.Store.Inner.DataOf(upload.Id).Length;
            try
            {
                await harness.Store.Inner.AppendAsync(upload, data, token);
            }
            catch (ChecksumMismatchException)
            {
                // Keeps what it wrote and reports it: wrong, but the engine copes.
            }

            return harness.Store.Inner.DataOf(upload.Id).Length - before;
        };

        var response = await harness.SendAsync(FaultHarness.Patch(id, 0, Data).Header("Upload-Checksum", "sha256 " + Convert.ToBase64String(SHA256.HashData("x"u8))));

        response.StatusCode.Should().Be(460);
        response.GetHeader("Upload-Offset").Should().Be("0");
        harness.Store.Inner.DataOf(id).Should().BeEmpty();
        harness.Log.Entries.Should().Contain("DiscardFrom");
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Patch_TrailerChecksum_IsVerifiedWithoutReadingTheUnfinishedUploadBack(string algorithm, byte[] digest)
    {
        var store = new InMemoryStore { CannotReadUnfinished = true, ReadInSmallBuffers = algorithm == "sha1" };
        var harness = EngineHarness.Create(store: store);
        var id = await harness.CreateAsync(100);
        var wrong = algorithm switch
        {
            "md5" => MD5.HashData("x"u8),
            "sha1" => SHA1.HashData("x"u8),
            "sha256" => SHA256.HashData("x"u8),
            _ => SHA512.HashData("x"u8),
        };

        var matching = await harness.PatchAsync(id, 0, Data, r => r.Header("Trailer", "Upload-Checksum").Trailer("Upload-Checksum", $"{algorithm} {Convert.ToBase64String(digest)}"));
        var mismatching = await harness.PatchAsync(id, Data.Length, Data, r => r.Header("Trailer", "Upload-Checksum").Trailer("Upload-Checksum", $"{algorithm} {Convert.ToBase64String(wrong)}"));

        matching.StatusCode.Should().Be(204);
        matching.GetHeader("Upload-Offset").Should().Be(Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        mismatching.StatusCode.Should().Be(460);
        mismatching.GetHeader("Upload-Offset").Should().Be(Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        store.DataOf(id).Should().Equal(Data);
        store.OpenReadCalls.Should().Be(0);
    }

    [Theory]
    [InlineData("Upload-Checksum", "sha256 not-base64", 400, "ERR_INVALID_CHECKSUM")]
    [InlineData("Upload-Checksum", "crc32 AAAAAA==", 400, "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM")]
    [InlineData(null, null, 400, "ERR_INVALID_CHECKSUM")]
    public async Task Patch_BadOrMissingTrailer_AnswersItsErrorAndKeepsNothing(string? trailer, string? value, int status, string code)
    {
        var store = new InMemoryStore { CannotReadUnfinished = true };
        var harness = EngineHarness.Create(store: store);
        var id = await harness.CreateAsync(100);

        var response = await harness.PatchAsync(id, 0, Data, r =>
        {
            r.Header("Trailer", "Upload-Checksum");
            if (trailer is not null)
            {
                r.Trailer(trailer, value!);
            }
        });

        response.StatusCode.Should().Be(status);
        response.Error!.Code.Should().Be(code);
        response.GetHeader("Upload-Offset").Should().Be("0");
        store.DataOf(id).Should().BeEmpty();
        store.OpenReadCalls.Should().Be(0);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public async Task Patch_ChecksummedBodyEndingExactlyAtTheLength_IsVerified(bool smallReads, bool matches)
    {
        var store = new InMemoryStore { ReadInSmallBuffers = smallReads };
        var harness = EngineHarness.Create(store: store);
        var id = await harness.CreateAsync(Data.Length);
        var digest = SHA1.HashData(matches ? Data : "x"u8.ToArray());

        var response = await harness.SendAsync(TestRequest.WithBytes("PATCH", id, Data, declareLength: false).OffsetStream()
            .Header("Upload-Offset", "0").Header("Upload-Checksum", "sha1 " + Convert.ToBase64String(digest)));

        response.StatusCode.Should().Be(matches ? 204 : 460);
        store.DataOf(id).Should().Equal(matches ? Data : []);
    }

    [Fact]
    public async Task Patch_ChecksummedBodyLongerThanTheUpload_Answers413AndKeepsNothing()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);

        var response = await harness.SendAsync(TestRequest.WithBytes("PATCH", id, Data, declareLength: false).OffsetStream()
            .Header("Upload-Offset", "0").Header("Upload-Checksum", "sha1 " + Convert.ToBase64String(SHA1.HashData(Data))));

        response.StatusCode.Should().Be(413);
        response.GetHeader("Upload-Offset").Should().Be("0");
        harness.Store.DataOf(id).Should().BeEmpty();
    }
}
