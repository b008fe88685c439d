using System.Net;
using static Tus.Draft.Tests.Draft;

namespace Tus.Draft.Tests;

/// <summary>104 (Upload Resumption Supported) as a client on a socket sees it from real Kestrel.</summary>
public sealed class InterimResponseTests
{
    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task Creation_Sends104WithTheUploadsUrlBeforeTheBodyIsSent(int version)
    {
        await using var server = await DraftServer.StartAsync(o => o.MaxSize = 1 << 20);
        await using var http = await RawHttp.ConnectAsync(server.Endpoint, Ct);

        // Only the head goes out: the 104 must arrive while the client still holds its body back.
        await http.SendAsync("POST", server.Path, [Interop(version), Complete(version, true), ("Content-Length", "11")], body: null, Ct);
        var interim = await http.ReadResponseAsync(isHead: false, Ct);

        interim.Status.Should().Be(104);
        interim.Reason.Should().Be("Upload Resumption Supported");
        interim.Header("Upload-Draft-Interop-Version").Should().Be(version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var location = interim.Header("Location");
        location.Should().StartWith(server.Endpoint.ToString());
        if (version >= 6)
        {
            interim.Header("Upload-Limit").Should().Be("max-size=1048576");
        }
        else
        {
            interim.Header("Upload-Limit").Should().BeNull("Upload-Limit came with interop 6");
        }

        await http.WriteAsync(Bytes("hello world"), Ct);
        var final = await http.ReadResponseAsync(isHead: false, Ct);
        final.Status.Should().Be(201);
        final.Header("Location").Should().Be(location, "interim and final responses name the same upload");
        IsComplete(final, version).Should().BeTrue();
    }

    [Fact]
    public async Task Creation_InterruptedAfterThe104_CanBeResumedAtItsLocation()
    {
        await using var server = await DraftServer.StartAsync();
        string path;
        await using (var http = await RawHttp.ConnectAsync(server.Endpoint, Ct))
        {
            await http.SendAsync("POST", server.Path, [Interop(8), Complete(8, true), ("Content-Length", "11")], Bytes("hello"), Ct);
            var interim = await http.ReadResponseAsync(isHead: false, Ct);
            interim.Status.Should().Be(104);
            path = new Uri(interim.Header("Location")!).AbsolutePath;
            await Task.Delay(1000, Ct);
            http.Abort();
        }

        var head = await WaitForOffsetAsync(server, path, "5");
        IsComplete(head, 8).Should().BeFalse("a body cut short never completes an upload");
        head.Header("Upload-Length").Should().Be("11");
        var resumed = (await AppendAsync(server, 8, path, 5, complete: true, Bytes(" world")))[^1];
        resumed.Status.Should().Be(204);
        IsComplete(resumed, 8).Should().BeTrue();
        (await DownloadAsync(server, path)).BodyText.Should().Be("hello world");
    }

    [Fact]
    public async Task Creation_WithoutAnInteropVersionTheServerServes_GetsNo104()
    {
        await using var server = await DraftServer.StartAsync();

        var tus = await SendAsync(server, "POST", server.Path, [("Tus-Resumable", "1.0.0"), ("Upload-Length", "3"), ("Content-Type", "application/offset+octet-stream")], Bytes("abc"));

        tus.Should().ContainSingle().Which.Status.Should().Be(201);
    }

    [Fact]
    public async Task Creation_WithoutTheConnectionMiddleware_AnswersWithoutA104()
    {
        await using var server = await DraftServer.StartAsync(interimResponses: false);

        var (responses, _) = await CreateAsync(server, 8, complete: true, Bytes("abc"));

        responses.Should().ContainSingle().Which.Status.Should().Be(201);
    }

    [Fact]
    public async Task HttpClient_SeesTheFinalResponseAfterA104()
    {
        await using var server = await DraftServer.StartAsync();
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint) { Content = new ByteArrayContent(Bytes("hello")) };
        request.Headers.Add("Upload-Draft-Interop-Version", "8");
        request.Headers.Add("Upload-Complete", "?1");

        using var response = await client.SendAsync(request, Ct);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.GetValues("Upload-Complete").Should().Equal("?1");
    }

    internal static async Task<RawResponse> WaitForOffsetAsync(DraftServer server, string path, string offset)
    {
        // The server learns of the broken connection on its own clock; the HEAD also asks a stale request to let go.
        RawResponse head = null!;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            head = await HeadAsync(server, 8, path);
            if (head.Header("Upload-Offset") == offset)
            {
                return head;
            }

            await Task.Delay(100, Ct);
        }

        return head;
    }
}
