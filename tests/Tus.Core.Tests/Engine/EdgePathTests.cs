using Tus.Core.Tests.Infrastructure;
using Tus.Engine;

namespace Tus.Core.Tests.Engine;

/// <summary>The less travelled status paths: locks that cannot be had, requests abandoned mid-wait, odd ranges.</summary>
public sealed class EdgePathTests
{
    [Theory]
    [InlineData("HEAD")]
    [InlineData("DELETE")]
    public async Task LockedUpload_HeadOrDeleteBeyondLockTimeout_Answers423(string method)
    {
        var harness = EngineHarness.Create(o => o.LockTimeout = TimeSpan.FromMilliseconds(100));
        var id = await harness.CreateAsync(10);
        await using var held = await harness.Locker.AcquireAsync(id, default);

        var response = await harness.SendAsync(new TestRequest(method, id));

        response.StatusCode.Should().Be(423);
        harness.Store.Count.Should().Be(1);
    }

    [Fact]
    public async Task LockWait_ClientGoesAway_EndsWithoutTouchingTheUpload()
    {
        var harness = EngineHarness.Create(o => o.LockTimeout = TimeSpan.FromMinutes(1));
        var id = await harness.CreateAsync(10);
        await using var held = await harness.Locker.AcquireAsync(id, default);
        var request = new TestRequest("DELETE", id);

        var pending = harness.SendAsync(request);
        await request.AbortSource.CancelAsync();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        response.Error!.Code.Should().Be("ERR_CONNECTION_RESET");
        harness.Store.Count.Should().Be(1);
    }

    [Fact]
    public async Task LockWait_ServerStopping_Answers503()
    {
        using var stopping = new CancellationTokenSource();
        var harness = EngineHarness.Create(o => o.LockTimeout = TimeSpan.FromMinutes(1), stopping: stopping.Token);
        var id = await harness.CreateAsync(10);
        await using var held = await harness.Locker.AcquireAsync(id, default);

        var pending = harness.SendAsync(new TestRequest("HEAD", id));
        await stopping.CancelAsync();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        response.StatusCode.Should().Be(503);
        response.Body.IsEmpty.Should().BeTrue("HEAD responses carry no body");
    }

    [Fact]
    public async Task StoreLookup_CancelledByClient_IsAnsweredAsConnectionReset()
    {
        var harness = EngineHarness.Create();
        var request = new TestRequest("HEAD", "abc");
        await request.AbortSource.CancelAsync();
        harness.Store.FailNext = new OperationCanceledException(request.Aborted);

        var response = await harness.SendAsync(request);

        response.Error!.Code.Should().Be("ERR_CONNECTION_RESET");
    }

    [Fact]
    public async Task Get_UnknownUpload_Answers404()
    {
        var harness = EngineHarness.Create();

        var response = await harness.SendAsync(new TestRequest("GET", "missing"));

        response.StatusCode.Should().Be(404);
    }

    [Fact]
    public async Task Final_WhosePartialWasDeleted_IsReportedNotAssembled()
    {
        var harness = EngineHarness.Create();
        var a = await harness.CreateAsync(2, concat: "partial");
        var final = await harness.CreateAsync(null, concat: $"final;/files/{a}");
        (await harness.SendAsync(new TestRequest("DELETE", a))).StatusCode.Should().Be(204);

        var head = await harness.HeadAsync(final);
        var get = await harness.SendAsync(new TestRequest("GET", final));

        head.StatusCode.Should().Be(400);
        get.StatusCode.Should().Be(400);
        get.Error!.Code.Should().Be("ERR_INVALID_CONCAT");
    }

    [Theory]
    [InlineData("bytes=-0", "NotSatisfiable")]
    [InlineData("bytes=5", "Ignored")]
    [InlineData("bytes=a-3", "Ignored")]
    [InlineData("bytes=3-x", "Ignored")]
    [InlineData("bytes=-x", "Ignored")]
    [InlineData("bytes=5-2", "Ignored")]
    [InlineData("bytes=0-0", "Satisfiable")]
    [InlineData("bytes=-100", "Satisfiable")]
    public void Range_Parsing_FollowsRfc9110(string header, string expected)
    {
        GetHandler.TryParseRange(header, 10, out var start, out var count).ToString().Should().Be(expected);
        if (expected == nameof(GetHandler.RangeResult.Satisfiable))
        {
            (start + count).Should().BeLessThanOrEqualTo(10);
            count.Should().BePositive();
        }
    }

    [Fact]
    public void Range_OnEmptyUpload_IsNotSatisfiable()
    {
        GetHandler.TryParseRange("bytes=-5", 0, out _, out _).Should().Be(GetHandler.RangeResult.NotSatisfiable);
        GetHandler.TryParseRange("bytes=0-", 0, out _, out _).Should().Be(GetHandler.RangeResult.NotSatisfiable);
    }

    [Fact]
    public async Task Sweep_RemovalFails_LogsAndCarriesOn()
    {
        var harness = EngineHarness.Create(o => o.Expiration = TimeSpan.FromMinutes(1));
        var first = await harness.CreateAsync(10);
        var second = await harness.CreateAsync(10);
        harness.Clock.Advance(TimeSpan.FromHours(1));
        harness.Store.FailNext = new IOException("cannot read");

        var removed = await harness.Engine.RemoveExpiredUploadsAsync(default);

        removed.Should().Be(1, "the upload whose removal failed is left for the next sweep");
        harness.Store.Count.Should().Be(1);
        harness.Logger.Entries.Should().Contain(e => e.StartsWith("Warning: Could not remove expired upload", StringComparison.Ordinal));
        (await harness.Engine.RemoveExpiredUploadsAsync(default)).Should().Be(1);
        (await harness.Store.GetAsync(first, default)).Should().BeNull();
        (await harness.Store.GetAsync(second, default)).Should().BeNull();
    }

    [Fact]
    public async Task Sweep_UploadHeldByAnotherRequest_IsLeftForLater()
    {
        var harness = EngineHarness.Create(o => { o.Expiration = TimeSpan.FromMinutes(1); o.LockTimeout = TimeSpan.FromMilliseconds(100); });
        var id = await harness.CreateAsync(10);
        harness.Clock.Advance(TimeSpan.FromHours(1));
        await using var held = await harness.Locker.AcquireAsync(id, default);

        var removed = await harness.Engine.RemoveExpiredUploadsAsync(default);

        removed.Should().Be(0);
        harness.Store.Count.Should().Be(1);
    }

    [Fact]
    public async Task Hook_ThrowingException_Answers500WithoutItsMessage()
    {
        var harness = EngineHarness.WithHooks(new Hook.PreCreate((_, _) => throw new InvalidOperationException("db password is hunter2")));

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1"));

        response.StatusCode.Should().Be(500);
        response.Error!.Code.Should().Be("ERR_HOOK_FAILED");
        EngineHarness.Text(response).Should().NotContain("hunter2");
        harness.Logger.Entries.Should().Contain(e => e.Contains("hunter2", StringComparison.Ordinal), "the details belong in the log");
    }
}
