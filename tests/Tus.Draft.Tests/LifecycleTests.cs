using System.Text;
using static Tus.Draft.Tests.Draft;

namespace Tus.Draft.Tests;

/// <summary>Creation, offset retrieval, append, completion and cancellation in every interop version, over real Kestrel.</summary>
public sealed class LifecycleTests
{
    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Creation_WholeBodyWithCompletion_IsCompleteAndReadable(int version)
    {
        await using var server = await DraftServer.StartAsync();

        var (responses, path) = await CreateAsync(server, version, complete: true, Bytes("hello world"));

        var final = responses[^1];
        final.Status.Should().Be(201);
        IsComplete(final, version).Should().BeTrue();
        final.Header("Upload-Offset").Should().Be("11");
        final.Header("Tus-Resumable").Should().BeNull("a draft client is answered in the draft's headers only");
        var head = await HeadAsync(server, version, path);
        head.Status.Should().Be(204);
        head.Header("Upload-Offset").Should().Be("11");
        head.Header("Upload-Length").Should().Be("11");
        head.Header("Cache-Control").Should().Be("no-store");
        IsComplete(head, version).Should().BeTrue();
        (await DownloadAsync(server, path)).BodyText.Should().Be("hello world");
    }

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Upload_InParts_AppendsAndCompletesOnlyWhenTheClientSaysSo(int version)
    {
        await using var server = await DraftServer.StartAsync();

        var (created, path) = await CreateAsync(server, version, complete: false, []);
        created[^1].Status.Should().Be(201);
        IsComplete(created[^1], version).Should().BeFalse();
        var head = await HeadAsync(server, version, path);
        head.Header("Upload-Offset").Should().Be("0");
        head.Header("Upload-Length").Should().BeNull("no length is known yet");
        IsComplete(head, version).Should().BeFalse();

        var first = (await AppendAsync(server, version, path, 0, complete: false, Bytes("resumable ")))[^1];
        first.Status.Should().Be(204);
        IsComplete(first, version).Should().BeFalse();
        first.Header("Upload-Offset").Should().Be("10");
        head = await HeadAsync(server, version, path);
        head.Header("Upload-Offset").Should().Be("10");
        IsComplete(head, version).Should().BeFalse();

        var last = (await AppendAsync(server, version, path, 10, complete: true, Bytes("uploads")))[^1];
        last.Status.Should().Be(204);
        IsComplete(last, version).Should().BeTrue();
        head = await HeadAsync(server, version, path);
        head.Header("Upload-Offset").Should().Be("17");
        head.Header("Upload-Length").Should().Be("17");
        IsComplete(head, version).Should().BeTrue();
        (await DownloadAsync(server, path)).BodyText.Should().Be("resumable uploads");
    }

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Append_EmptyBodyWithCompletion_CompletesAtTheCurrentOffset(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("abc"));

        var done = (await AppendAsync(server, version, path, 3, complete: true, []))[^1];

        done.Status.Should().Be(204);
        IsComplete(done, version).Should().BeTrue();
        (await HeadAsync(server, version, path)).Header("Upload-Length").Should().Be("3");
    }

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Append_WrongOffset_Is409WithTheRightOffsetAndChangesNothing(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("12345"));

        var answer = (await AppendAsync(server, version, path, 3, complete: false, Bytes("xx")))[^1];

        answer.Status.Should().Be(409);
        answer.Header("Upload-Offset").Should().Be("5");
        (await HeadAsync(server, version, path)).Header("Upload-Offset").Should().Be("5");
    }

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Cancellation_Delete_RemovesTheUpload(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("data"));

        var deleted = (await SendAsync(server, "DELETE", path, [Interop(version)]))[^1];

        deleted.Status.Should().Be(204);
        (await HeadAsync(server, version, path)).Status.Should().Be(404);
    }

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Creation_ChunkedBodyWithCompletion_TakesItsLengthFromTheBody(int version)
    {
        await using var server = await DraftServer.StartAsync();
        await using var http = await RawHttp.ConnectAsync(server.Endpoint, Ct);
        await http.SendAsync("POST", server.Path, [Interop(version), Complete(version, true), ("Transfer-Encoding", "chunked")], Bytes("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), Ct);

        var final = (await http.ReadAllAsync(isHead: false, Ct))[^1];

        final.Status.Should().Be(201);
        IsComplete(final, version).Should().BeTrue();
        var path = new Uri(final.Header("Location")!).AbsolutePath;
        (await HeadAsync(server, version, path)).Header("Upload-Length").Should().Be("11");
        (await DownloadAsync(server, path)).BodyText.Should().Be("hello world");
    }

    [Fact]
    public async Task Creation_ContentTypeAndDisposition_BecomeTheUploadsTypeAndName()
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, 8, complete: true, Bytes("{\"a\":1}"),
            ("Content-Type", "application/json"), ("Content-Disposition", "inline; filename=\"plain.json\"; filename*=UTF-8''r%C3%A9sum%C3%A9.json"));

        // The tus view of the same upload shows the metadata; a download serves it.
        var tusHead = (await SendAsync(server, "HEAD", path, [("Tus-Resumable", "1.0.0")]))[^1];
        var metadata = tusHead.Header("Upload-Metadata")!.Split(',').Select(e => e.Split(' ')).ToDictionary(e => e[0], e => Encoding.UTF8.GetString(Convert.FromBase64String(e[1])));
        metadata.Should().Contain("filetype", "application/json").And.Contain("filename", "résumé.json", "filename* wins over filename");
        var download = await DownloadAsync(server, path);
        download.Header("Content-Type").Should().StartWith("application/json");
        download.BodyText.Should().Be("{\"a\":1}");
    }

    [Fact]
    public async Task Options_DraftClient_LearnsPatchTypeAndLimits()
    {
        await using var server = await DraftServer.StartAsync(o => o.MaxSize = 1000);

        var options = (await SendAsync(server, "OPTIONS", server.Path, [Interop(8)]))[^1];

        options.Status.Should().Be(204);
        options.Header("Accept-Patch").Should().Be("application/partial-upload");
        options.Header("Upload-Limit").Should().Be("max-size=1000");
        options.Header("Tus-Version").Should().BeNull();
    }

    [Fact]
    public async Task Draft_WhenDisabled_IsNotServed()
    {
        await using var server = await DraftServer.StartAsync(o => o.IetfDraft.Enabled = false);

        var (responses, _) = await CreateAsync(server, 8, complete: true, Bytes("x"));

        responses.Should().ContainSingle().Which.Status.Should().Be(412, "without the draft only tus 1.0 is spoken, and this is no tus request");
    }

    [Fact]
    public async Task UnsupportedInteropVersion_IsNotTakenForTheDraft()
    {
        await using var server = await DraftServer.StartAsync();

        var (responses, _) = await CreateAsync(server, 2, complete: true, Bytes("x"));

        responses.Should().ContainSingle().Which.Status.Should().Be(412);
    }
}
