using System.Text.Json;
using static Tus.Draft.Tests.Draft;

namespace Tus.Draft.Tests;

/// <summary>Upload-Limit on OPTIONS, creation, HEAD and violations; RFC 9457 problem bodies from interop 6.</summary>
public sealed class LimitsAndProblemsTests
{
    private static void Limits(TusOptions o)
    {
        o.MaxSize = 1000;
        o.Expiration = TimeSpan.FromHours(1);
        o.IetfDraft.MinSize = 5;
        o.IetfDraft.MaxAppendSize = 100;
        o.IetfDraft.MinAppendSize = 10;
    }

    [Theory]
    [MemberData(nameof(Draft.VersionsWithLimitsAndProblems), MemberType = typeof(Draft))]
    public async Task UploadLimit_OnOptionsCreationAndHead_NamesEveryLimit(int version)
    {
        await using var server = await DraftServer.StartAsync(Limits);
        var age = version >= 7 ? "max-age" : "expires";

        var options = (await SendAsync(server, "OPTIONS", server.Path, [Interop(version)]))[^1];
        var (created, path) = await CreateAsync(server, version, complete: false, Bytes("0123456789"), ("Upload-Length", "50"));
        var head = await HeadAsync(server, version, path);

        options.Header("Upload-Limit").Should().Be($"max-size=1000, min-size=5, max-append-size=100, min-append-size=10, {age}=3600");
        created[0].Status.Should().Be(104);
        created[0].Header("Upload-Limit").Should().StartWith("max-size=1000, min-size=5, max-append-size=100, min-append-size=10, " + age + "=");
        created[^1].Header("Upload-Limit").Should().StartWith("max-size=1000, min-size=5, max-append-size=100, min-append-size=10, " + age + "=");
        head.Header("Upload-Limit").Should().MatchRegex($"^max-size=1000, min-size=5, max-append-size=100, min-append-size=10, {age}=(3599|3600)$");
    }

    [Theory]
    [MemberData(nameof(Draft.VersionsWithLimitsAndProblems), MemberType = typeof(Draft))]
    public async Task Append_AboveMaxAppendSize_Is413WithLimitsAndTakesNothing(int version)
    {
        await using var server = await DraftServer.StartAsync(Limits);
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("0123456789"));

        var answer = (await AppendAsync(server, version, path, 10, complete: false, new byte[101]))[^1];

        answer.Status.Should().Be(413);
        answer.Header("Upload-Limit").Should().Contain("max-append-size=100");
        answer.Header("Content-Type").Should().Be("application/problem+json");
        Problem(answer).GetProperty("code").GetString().Should().Be("ERR_APPEND_TOO_LARGE");
        (await HeadAsync(server, version, path)).Header("Upload-Offset").Should().Be("10");
    }

    [Theory]
    [MemberData(nameof(Draft.VersionsWithLimitsAndProblems), MemberType = typeof(Draft))]
    public async Task Limits_SizeAndAppendMinimums_AreEnforced(int version)
    {
        await using var server = await DraftServer.StartAsync(Limits);

        var tooSmall = (await CreateAsync(server, version, complete: false, [], ("Upload-Length", "4"))).Responses[^1];
        var tooLarge = (await CreateAsync(server, version, complete: false, [], ("Upload-Length", "1001"))).Responses[^1];
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("0123456789"));
        var smallAppend = (await AppendAsync(server, version, path, 10, complete: false, Bytes("abc")))[^1];
        var smallLastAppend = (await AppendAsync(server, version, path, 10, complete: true, Bytes("abc")))[^1];

        tooSmall.Status.Should().Be(400);
        Problem(tooSmall).GetProperty("code").GetString().Should().Be("ERR_UPLOAD_TOO_SMALL");
        tooLarge.Status.Should().Be(413);
        tooLarge.Header("Upload-Limit").Should().Contain("max-size=1000");
        smallAppend.Status.Should().Be(400);
        Problem(smallAppend).GetProperty("code").GetString().Should().Be("ERR_APPEND_TOO_SMALL");
        smallLastAppend.Status.Should().Be(204, "the request that completes an upload is exempt from min-append-size");
        IsComplete(smallLastAppend, version).Should().BeTrue();
    }

    [Fact]
    public async Task MaxAppendSize_ChunkedBody_IsCutAtTheLimitAndKeepsWhatFits()
    {
        await using var server = await DraftServer.StartAsync(o => o.IetfDraft.MaxAppendSize = 4);
        var (_, path) = await CreateAsync(server, 8, complete: false, []);
        await using var http = await RawHttp.ConnectAsync(server.Endpoint, Ct);
        await http.SendAsync("PATCH", path, [Interop(8), Complete(8, false), ("Upload-Offset", "0"), ("Content-Type", "application/partial-upload"), ("Transfer-Encoding", "chunked")], Bytes("6\r\nabcdef\r\n0\r\n\r\n"), Ct);

        var answer = (await http.ReadAllAsync(isHead: false, Ct))[^1];

        answer.Status.Should().Be(413);
        answer.Header("Upload-Offset").Should().Be("4");
        answer.Header("Upload-Limit").Should().Be("max-append-size=4");
    }

    [Theory]
    [MemberData(nameof(Draft.VersionsWithLimitsAndProblems), MemberType = typeof(Draft))]
    public async Task MismatchedOffset_IsTheDraftsProblemTypeWithBothOffsets(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("12345"));

        var answer = (await AppendAsync(server, version, path, 9, complete: false, Bytes("x")))[^1];

        answer.Status.Should().Be(409);
        answer.Header("Upload-Offset").Should().Be("5");
        var problem = Problem(answer);
        problem.GetProperty("type").GetString().Should().Be("https://iana.org/assignments/http-problem-types#mismatching-upload-offset");
        problem.GetProperty("expected-offset").GetInt64().Should().Be(5);
        problem.GetProperty("provided-offset").GetInt64().Should().Be(9);
    }

    [Theory]
    [MemberData(nameof(Draft.VersionsWithLimitsAndProblems), MemberType = typeof(Draft))]
    public async Task Append_ToACompletedUpload_IsRefusedAsCompleted(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: true, Bytes("done"));

        var answer = (await AppendAsync(server, version, path, 4, complete: true, []))[^1];

        answer.Status.Should().Be(400);
        Problem(answer).GetProperty("type").GetString().Should().Be("https://iana.org/assignments/http-problem-types#completed-upload");
    }

    [Theory]
    [MemberData(nameof(Draft.VersionsWithLimitsAndProblems), MemberType = typeof(Draft))]
    public async Task InconsistentLengths_AreTheDraftsProblemType(int version)
    {
        await using var server = await DraftServer.StartAsync();

        var atCreation = (await CreateAsync(server, version, complete: true, Bytes("hello world"), ("Upload-Length", "5"))).Responses[^1];
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("abc"), ("Upload-Length", "10"));
        var atAppend = (await AppendAsync(server, version, path, 3, complete: true, Bytes("de")))[^1];

        atCreation.Status.Should().Be(400);
        Problem(atCreation).GetProperty("type").GetString().Should().Be("https://iana.org/assignments/http-problem-types#inconsistent-upload-length");
        atAppend.Status.Should().Be(400);
        Problem(atAppend).GetProperty("type").GetString().Should().Be("https://iana.org/assignments/http-problem-types#inconsistent-upload-length");
        (await HeadAsync(server, version, path)).Header("Upload-Offset").Should().Be("3");
    }

    [Fact]
    public async Task CompletingChunkedAppend_ShortOfTheDeclaredLength_IsInconsistentAndKeepsTheBytes()
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, 8, complete: false, [], ("Upload-Length", "10"));
        await using var http = await RawHttp.ConnectAsync(server.Endpoint, Ct);
        await http.SendAsync("PATCH", path, [Interop(8), Complete(8, true), ("Upload-Offset", "0"), ("Content-Type", "application/partial-upload"), ("Transfer-Encoding", "chunked")], Bytes("4\r\nabcd\r\n0\r\n\r\n"), Ct);

        var answer = (await http.ReadAllAsync(isHead: false, Ct))[^1];

        answer.Status.Should().Be(400);
        answer.Header("Upload-Offset").Should().Be("4");
        Problem(answer).GetProperty("type").GetString().Should().Be("https://iana.org/assignments/http-problem-types#inconsistent-upload-length");
        IsComplete(await HeadAsync(server, 8, path), 8).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Draft.VersionsWithLimitsAndProblems), MemberType = typeof(Draft))]
    public async Task Append_WithoutPartialUploadMediaType_Is415(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: false, []);

        var answer = (await AppendAsync(server, version, path, 0, complete: false, Bytes("x"), contentType: "application/octet-stream"))[^1];

        answer.Status.Should().Be(415);
    }

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Append_WithoutCompletenessHeader_Is400(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: false, []);

        var answer = (await SendAsync(server, "PATCH", path, [Interop(version), ("Upload-Offset", "0"), ("Content-Type", AppendType(version))], Bytes("x")))[^1];

        answer.Status.Should().Be(400);
        answer.BodyText.Should().Contain("ERR_INVALID_UPLOAD_COMPLETE");
    }

    private static JsonElement Problem(RawResponse response)
    {
        response.Header("Content-Type").Should().Be("application/problem+json");
        var problem = JsonDocument.Parse(response.Body).RootElement;
        problem.GetProperty("status").GetInt32().Should().Be(response.Status);
        return problem;
    }
}
