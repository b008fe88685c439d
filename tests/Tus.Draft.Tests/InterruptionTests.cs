using Microsoft.Extensions.DependencyInjection;
using static Tus.Draft.Tests.Draft;

namespace Tus.Draft.Tests;

/// <summary>
/// A request that says <c>Upload-Complete: ?1</c> and is cut short never completes the upload (tusd #1098 treated such
/// an upload as complete); the client resumes it from the bytes that arrived.
/// </summary>
public sealed class InterruptionTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    public async Task CompletingAppend_WithContentLength_CutShort_LeavesTheUploadIncomplete(int version)
    {
        var completions = 0;
        // Pre-finish runs inline, before the response: its count is settled when the response arrives.
        await using var server = await DraftServer.StartAsync(hooks: tus => tus.OnPreFinish((_, _) => { Interlocked.Increment(ref completions); return ValueTask.CompletedTask; }));
        var (_, path) = await CreateAsync(server, version, complete: false, []);
        await using (var http = await RawHttp.ConnectAsync(server.Endpoint, Ct))
        {
            await http.SendAsync("PATCH", path, [Interop(version), Complete(version, true), ("Upload-Offset", "0"), ("Content-Type", AppendType(version)), ("Content-Length", "100")], new byte[40], Ct);
            // Time for the server to read what was sent: bytes still unread when the connection resets are lost with it.
            await Task.Delay(1000, Ct);
            http.Abort();
        }

        var head = await InterimResponseTests.WaitForOffsetAsync(server, path, "40");
        head.Header("Upload-Offset").Should().Be("40");
        IsComplete(head, 8).Should().BeFalse();
        Volatile.Read(ref completions).Should().Be(0);

        var resumed = (await AppendAsync(server, version, path, 40, complete: true, new byte[60]))[^1];
        IsComplete(resumed, version).Should().BeTrue();
        Volatile.Read(ref completions).Should().Be(1, "the finish hook runs once, when the upload really completes");
    }

    [Fact]
    public async Task CompletingAppend_Chunked_CutShort_LeavesTheUploadIncompleteWithNoLength()
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, 8, complete: false, []);
        await using (var http = await RawHttp.ConnectAsync(server.Endpoint, Ct))
        {
            await http.SendAsync("PATCH", path, [Interop(8), Complete(8, true), ("Upload-Offset", "0"), ("Content-Type", "application/partial-upload"), ("Transfer-Encoding", "chunked")], Bytes("5\r\nhello\r\n"), Ct);
            // Time for the server to read what was sent: bytes still unread when the connection resets are lost with it.
            await Task.Delay(1000, Ct);
            http.Abort();
        }

        var head = await InterimResponseTests.WaitForOffsetAsync(server, path, "5");
        head.Header("Upload-Offset").Should().Be("5");
        head.Header("Upload-Length").Should().BeNull("only a body that arrived whole says where the upload ends");
        IsComplete(head, 8).Should().BeFalse();
    }
}
