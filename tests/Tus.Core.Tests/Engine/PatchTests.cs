using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Engine;

public sealed class PatchTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Patch_InChunks_AppendsAndReportsOffset(bool smallReads)
    {
        var harness = EngineHarness.Create(store: new InMemoryStore { ReadInSmallBuffers = smallReads });
        var id = await harness.CreateAsync(11);

        var first = await harness.PatchAsync(id, 0, "hello "u8.ToArray());
        var second = await harness.PatchAsync(id, 6, "world"u8.ToArray());

        first.StatusCode.Should().Be(204);
        first.GetHeader("Upload-Offset").Should().Be("6");
        second.StatusCode.Should().Be(204);
        second.GetHeader("Upload-Offset").Should().Be("11");
        harness.Store.DataOf(id).Should().Equal("hello world"u8.ToArray());
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(16 * 1024)]
    [InlineData(1024 * 1024)]
    public async Task Patch_AnySegmentSize_StoresTheExactBytes(int segmentSize)
    {
        var harness = EngineHarness.Create();
        var data = Enumerable.Range(0, 3_000_001).Select(i => (byte)(i * 31 + (i >> 11))).ToArray();
        var id = await harness.CreateAsync(data.Length);
        var request = new TestRequest("PATCH", id, new MemoryStream(data), data.Length, pipeBufferSize: segmentSize)
            .OffsetStream().Header("Upload-Offset", "0");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(204);
        harness.Store.DataOf(id).Should().Equal(data);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(4096)]
    [InlineData(10_000)]
    [InlineData(200_000)]
    public async Task Patch_BodyInManySmallPipeSegments_StoresTheExactBytes(int writeSize)
    {
        var harness = EngineHarness.Create();
        var data = Enumerable.Range(0, 1_048_576 + 3).Select(i => (byte)(i * 13 + (i >> 9))).ToArray();
        var id = await harness.CreateAsync(data.Length);
        var request = TestRequest.WithPipe("PATCH", id, data, writeSize).OffsetStream().Header("Upload-Offset", "0");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(204, string.Join(Environment.NewLine, harness.Logger.Entries));
        harness.Store.DataOf(id).Should().Equal(data);
    }

    [Fact]
    public async Task Patch_ChunkedBodyOfUnknownLength_IsStreamed()
    {
        var harness = EngineHarness.Create();
        var data = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        var id = await harness.CreateAsync(data.Length);
        var request = TestRequest.WithBytes("PATCH", id, data, declareLength: false).OffsetStream().Header("Upload-Offset", "0");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(204);
        harness.Store.DataOf(id).Should().Equal(data);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/octet-stream")]
    [InlineData("text/plain")]
    public async Task Patch_WrongContentType_Answers415(string? contentType)
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);

        var response = await harness.PatchAsync(id, 0, "12345"u8.ToArray(), r => r.Header("Content-Type", contentType));

        response.StatusCode.Should().Be(415);
        response.Error!.Code.Should().Be("ERR_INVALID_CONTENT_TYPE");
        harness.Store.DataOf(id).Should().BeEmpty();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("zero")]
    public async Task Patch_InvalidOffsetHeader_Answers400(string? offset)
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);

        var response = await harness.PatchAsync(id, 0, "12345"u8.ToArray(), r => r.Header("Upload-Offset", offset));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_INVALID_OFFSET");
    }

    [Fact]
    public async Task Patch_MismatchedOffset_Answers409AndWritesNothing()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(10);
        await harness.PatchAsync(id, 0, "abc"u8.ToArray());

        var response = await harness.PatchAsync(id, 2, "xyz"u8.ToArray());

        response.StatusCode.Should().Be(409);
        response.Error!.Code.Should().Be("ERR_MISMATCHED_OFFSET");
        harness.Store.DataOf(id).Should().Equal("abc"u8.ToArray());
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("../../etc/passwd")]
    [InlineData("a%2Fb")]
    [InlineData("a.b")]
    public async Task Patch_UnknownOrInvalidId_Answers404(string id)
    {
        var harness = EngineHarness.Create();

        var response = await harness.PatchAsync(id, 0, "x"u8.ToArray());

        response.StatusCode.Should().Be(404);
        response.Error!.Code.Should().Be("ERR_UPLOAD_NOT_FOUND");
    }

    [Fact]
    public async Task Patch_DeclaredLengthBeyondRemaining_Answers413AndWritesNothing()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(3);

        var response = await harness.PatchAsync(id, 0, "abcdef"u8.ToArray());

        response.StatusCode.Should().Be(413);
        response.Error!.Code.Should().Be("ERR_UPLOAD_SIZE_EXCEEDED");
        harness.Store.DataOf(id).Should().BeEmpty();
    }

    [Fact]
    public async Task Patch_ChunkedBodyBeyondRemaining_IsCutAtExactlyTheLengthAndAnswers413()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(3);
        var request = TestRequest.WithBytes("PATCH", id, "abcdef"u8.ToArray(), declareLength: false).OffsetStream().Header("Upload-Offset", "0");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(413);
        harness.Store.DataOf(id).Should().Equal("abc"u8.ToArray());
        (await harness.HeadAsync(id)).GetHeader("Upload-Offset").Should().Be("3");
    }

    [Fact]
    public async Task Patch_ChunkedBodyEndingExactlyAtLength_Succeeds()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(3);
        var request = TestRequest.WithBytes("PATCH", id, "abc"u8.ToArray(), declareLength: false).OffsetStream().Header("Upload-Offset", "0");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(204);
        response.GetHeader("Upload-Offset").Should().Be("3");
    }

    [Fact]
    public async Task Patch_DeferredUpload_SetsLengthThenCompletes()
    {
        var completed = 0;
        var harness = EngineHarness.WithHooks(new Hook.PostFinish((_, _) => { completed++; return ValueTask.CompletedTask; }));
        var id = await harness.CreateAsync(null);
        (await harness.HeadAsync(id)).GetHeader("Upload-Defer-Length").Should().Be("1");

        await harness.PatchAsync(id, 0, "abc"u8.ToArray());
        var last = await harness.PatchAsync(id, 3, "de"u8.ToArray(), r => r.Header("Upload-Length", "5"));

        last.StatusCode.Should().Be(204);
        var head = await harness.HeadAsync(id);
        head.GetHeader("Upload-Length").Should().Be("5");
        head.GetHeader("Upload-Defer-Length").Should().BeNull();
        await harness.PostHooksRunAsync();
        completed.Should().Be(1);
    }

    [Fact]
    public async Task Patch_ChangingAKnownLength_Answers400()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);

        var response = await harness.PatchAsync(id, 0, "ab"u8.ToArray(), r => r.Header("Upload-Length", "6"));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_UPLOAD_LENGTH_ALREADY_SET");
    }

    [Fact]
    public async Task Patch_RepeatingTheKnownLength_IsAccepted()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(2);

        var response = await harness.PatchAsync(id, 0, "ab"u8.ToArray(), r => r.Header("Upload-Length", "2"));

        response.StatusCode.Should().Be(204);
    }

    [Theory]
    [InlineData("2", "ERR_INVALID_UPLOAD_LENGTH")]
    [InlineData("x", "ERR_INVALID_UPLOAD_LENGTH")]
    [InlineData("101", "ERR_MAX_SIZE_EXCEEDED")]
    public async Task Patch_DeferredLengthInvalid_IsRejected(string length, string code)
    {
        var harness = EngineHarness.Create(o => o.MaxSize = 100);
        var id = await harness.CreateAsync(null);
        await harness.PatchAsync(id, 0, "abc"u8.ToArray());

        var response = await harness.PatchAsync(id, 3, "d"u8.ToArray(), r => r.Header("Upload-Length", length));

        response.Error!.Code.Should().Be(code);
    }

    [Fact]
    public async Task Patch_DeferredUploadBeyondMaxSize_IsCutAndAnswers413()
    {
        var harness = EngineHarness.Create(o => o.MaxSize = 4);
        var id = await harness.CreateAsync(null);

        var declared = await harness.PatchAsync(id, 0, "abcdef"u8.ToArray());
        var chunked = await harness.SendAsync(TestRequest.WithBytes("PATCH", id, "abcdef"u8.ToArray(), declareLength: false).OffsetStream().Header("Upload-Offset", "0"));

        declared.StatusCode.Should().Be(413);
        declared.Error!.Code.Should().Be("ERR_MAX_SIZE_EXCEEDED");
        chunked.StatusCode.Should().Be(413);
        harness.Store.DataOf(id).Should().Equal("abcd"u8.ToArray());
    }

    [Fact]
    public async Task Patch_ClientDisconnects_KeepsWhatArrived()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(100);
        var request = new TestRequest("PATCH", id, new BreakingStream("partial"u8.ToArray()), 100).OffsetStream().Header("Upload-Offset", "0");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(500);
        response.Error!.Code.Should().Be("ERR_CONNECTION_RESET");
        harness.Store.DataOf(id).Should().Equal("partial"u8.ToArray());
        (await harness.HeadAsync(id)).GetHeader("Upload-Offset").Should().Be("7");
    }

    [Fact]
    public async Task Patch_SilentClient_TimesOutAndKeepsWhatArrived()
    {
        var harness = EngineHarness.Create(o => o.ReadTimeout = TimeSpan.FromMilliseconds(200));
        var id = await harness.CreateAsync(100);
        var request = new TestRequest("PATCH", id, new StallingStream("abc"u8.ToArray()), 100).OffsetStream().Header("Upload-Offset", "0");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(500);
        response.Error!.Code.Should().Be("ERR_READ_TIMEOUT");
        harness.Store.DataOf(id).Should().Equal("abc"u8.ToArray());
    }

    [Fact]
    public async Task Patch_SecondRequestForSameUpload_InterruptsTheStaleOneWhichKeepsItsData()
    {
        var harness = EngineHarness.Create(o => o.ReadTimeout = TimeSpan.FromMinutes(5));
        var id = await harness.CreateAsync(100);
        var stalled = new StallingStream("stale"u8.ToArray());
        var stale = harness.SendAsync(new TestRequest("PATCH", id, stalled, 100).OffsetStream().Header("Upload-Offset", "0"));
        await stalled.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var head = await harness.HeadAsync(id).WaitAsync(TimeSpan.FromSeconds(10));
        var staleResponse = await stale.WaitAsync(TimeSpan.FromSeconds(10));

        staleResponse.StatusCode.Should().Be(400);
        staleResponse.Error!.Code.Should().Be("ERR_UPLOAD_INTERRUPTED");
        head.StatusCode.Should().Be(200);
        head.GetHeader("Upload-Offset").Should().Be("5");
    }

    [Fact]
    public async Task Patch_LockHeldBeyondTimeout_Answers423()
    {
        var harness = EngineHarness.Create(o => o.LockTimeout = TimeSpan.FromMilliseconds(100));
        var id = await harness.CreateAsync(10);
        await using var held = await harness.Locker.AcquireAsync(id, default);

        var response = await harness.PatchAsync(id, 0, "a"u8.ToArray());

        response.StatusCode.Should().Be(423);
        response.Error!.Code.Should().Be("ERR_UPLOAD_LOCKED");
        held.ReleaseRequested.IsCancellationRequested.Should().BeTrue("the waiter asked the holder to let go");
    }

    [Fact]
    public async Task Patch_ServerStopping_Answers503AndKeepsData()
    {
        using var stopping = new CancellationTokenSource();
        var harness = EngineHarness.Create(stopping: stopping.Token);
        var id = await harness.CreateAsync(100);
        var stalled = new StallingStream("kept"u8.ToArray());
        var pending = harness.SendAsync(new TestRequest("PATCH", id, stalled, 100).OffsetStream().Header("Upload-Offset", "0"));
        await stalled.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await stopping.CancelAsync();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_SERVER_SHUTDOWN");
        harness.Store.DataOf(id).Should().Equal("kept"u8.ToArray());
    }

    [Fact]
    public async Task Patch_CompleteUploadWithEmptyBody_Answers204()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(1);
        await harness.PatchAsync(id, 0, "a"u8.ToArray());

        var response = await harness.PatchAsync(id, 1, []);

        response.StatusCode.Should().Be(204);
        response.GetHeader("Upload-Offset").Should().Be("1");
    }

    [Fact]
    public async Task Patch_StoreFails_Answers500WithoutMessage()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);
        harness.Store.FailNext = new IOException("disk /dev/sda1 on fire");

        var response = await harness.PatchAsync(id, 0, "abc"u8.ToArray());

        response.StatusCode.Should().Be(500);
        EngineHarness.Text(response).Should().NotContain("sda1");
    }
}
