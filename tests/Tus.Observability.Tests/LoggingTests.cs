using Microsoft.Extensions.Logging;

namespace Tus.Observability.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task Lifecycle_LogsStableEventsWithFields_ScopedByUpload()
    {
        var logs = new LogRecorder();
        await using var server = await TusTestServer.StartAsync(logs: logs);
        var upload = await server.CreateAsync(10);
        var id = upload.Segments[^1];
        (await server.PatchAsync(upload, 0, new byte[4])).Should().Be(204);
        (await server.PatchAsync(upload, 4, new byte[6])).Should().Be(204);
        (await server.PatchAsync(upload, 4, new byte[1])).Should().Be(409);

        var engine = logs.Entries.Where(e => e.Category == "Tus.TusEngine").ToList();
        engine.Should().Contain(e => e.EventId == 3 && Equals(e.Fields["UploadId"], id), "created");
        var ended = engine.Where(e => e.EventId == 23).ToList();
        ended.Select(e => e.Fields["Bytes"]).Should().Equal(4L, 6L);
        ended.Select(e => e.Fields["Offset"]).Should().Equal(4L, 10L);
        ended.Should().OnlyContain(e => Equals(e.Fields["Reason"], "Completed") && Equals(e.Scopes["UploadId"], id));
        engine.Where(e => e.EventId == 22).Select(e => e.Fields["Offset"]).Should().Equal(0L, 4L);
        engine.Should().Contain(e => e.EventId == 4 && Equals(e.Fields["UploadId"], id), "finished");

        var refused = engine.Should().ContainSingle(e => e.EventId == 21).Subject;
        refused.Level.Should().Be(LogLevel.Debug);
        refused.Fields["Code"].Should().Be("ERR_MISMATCHED_OFFSET");
        refused.Fields["StatusCode"].Should().Be(409);
        engine.Where(e => e.EventId == 20).Should().HaveCount(3, "the POST and the two PATCHes that succeeded");
        logs.Entries.Should().NotContain(e => e.Level >= LogLevel.Warning);
    }
}
