using System.Diagnostics;
using Tus.Diagnostics;

namespace Tus.Observability.Tests;

public sealed class TracingTests
{
    [Fact]
    public async Task Patch_HasARequestSpan_WithLockAndStoreCallsAsChildren()
    {
        await using var server = await TusTestServer.StartAsync();
        var upload = await server.CreateAsync(10);
        (await server.PatchAsync(upload, 0, new byte[4])).Should().Be(204);
        using var spans = new SpanRecorder();

        (await server.PatchAsync(upload, 4, new byte[6])).Should().Be(204);

        var id = upload.Segments[^1];
        var request = spans.Spans.Should().ContainSingle(s => s.OperationName == "tus PATCH").Subject;
        request.GetTagItem("tus.upload.id").Should().Be(id);
        request.GetTagItem("tus.upload.offset").Should().Be(10L);
        request.GetTagItem("http.request.method").Should().Be("PATCH");
        request.GetTagItem("http.response.status_code").Should().Be(204);
        request.Status.Should().Be(ActivityStatusCode.Unset);

        var children = spans.Spans.Where(s => s.ParentSpanId == request.SpanId).ToList();
        children.Select(s => s.OperationName).Should().Equal("tus.lock.acquire", "tus.store.get", "tus.store.append");
        children.Should().OnlyContain(s => s.TraceId == request.TraceId && (string?)s.GetTagItem("tus.upload.id") == id);
        var append = children.Single(s => s.OperationName == "tus.store.append");
        append.GetTagItem("tus.upload.offset").Should().Be(4L);
        append.GetTagItem("tus.upload.bytes").Should().Be(6L);
        children[0].GetTagItem("tus.lock.outcome").Should().Be("acquired");
    }

    [Fact]
    public async Task Post_TagsTheCreatedUpload_AndARefusedRequestIsNoServerError()
    {
        await using var server = await TusTestServer.StartAsync();
        using var spans = new SpanRecorder();

        var upload = await server.CreateAsync(10);
        (await server.PatchAsync(upload, 3, new byte[1])).Should().Be(409);

        var post = spans.Spans.Should().ContainSingle(s => s.OperationName == "tus POST").Subject;
        post.GetTagItem("tus.upload.id").Should().Be(upload.Segments[^1]);
        post.GetTagItem("http.response.status_code").Should().Be(201);
        spans.Spans.Should().ContainSingle(s => s.OperationName == "tus.store.create" && s.ParentSpanId == post.SpanId);

        var refused = spans.Spans.Should().ContainSingle(s => s.OperationName == "tus PATCH").Subject;
        refused.GetTagItem(TusMetrics.ErrorTypeTag).Should().Be("ERR_MISMATCHED_OFFSET");
        refused.Status.Should().Be(ActivityStatusCode.Unset, "a client's mistake is not a failure of the server");
    }
}
