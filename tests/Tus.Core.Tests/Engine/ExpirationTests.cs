using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Engine;

public sealed class ExpirationTests
{
    [Fact]
    public async Task Post_WithExpiration_AnnouncesUploadExpires()
    {
        var harness = EngineHarness.Create(o => o.Expiration = TimeSpan.FromHours(1));

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "10"));

        response.GetHeader("Upload-Expires").Should().Be("Sun, 22 Nov 2026 13:00:00 GMT");
    }

    [Fact]
    public async Task Patch_Sliding_MovesExpiryOn()
    {
        var harness = EngineHarness.Create(o => o.Expiration = TimeSpan.FromHours(1));
        var id = await harness.CreateAsync(10);
        harness.Clock.Advance(TimeSpan.FromMinutes(30));

        var response = await harness.PatchAsync(id, 0, "abc"u8.ToArray());

        response.GetHeader("Upload-Expires").Should().Be("Sun, 22 Nov 2026 13:30:00 GMT");
        (await harness.HeadAsync(id)).GetHeader("Upload-Expires").Should().Be("Sun, 22 Nov 2026 13:30:00 GMT");
    }

    [Fact]
    public async Task Patch_NotSliding_KeepsExpiry()
    {
        var harness = EngineHarness.Create(o => { o.Expiration = TimeSpan.FromHours(1); o.SlidingExpiration = false; });
        var id = await harness.CreateAsync(10);
        harness.Clock.Advance(TimeSpan.FromMinutes(30));

        var response = await harness.PatchAsync(id, 0, "abc"u8.ToArray());

        response.GetHeader("Upload-Expires").Should().Be("Sun, 22 Nov 2026 13:00:00 GMT");
    }

    [Fact]
    public async Task ExpiredUpload_Answers410ToHeadAndPatch_AndIsSweptAway()
    {
        var harness = EngineHarness.Create(o => o.Expiration = TimeSpan.FromHours(1));
        var expired = await harness.CreateAsync(10);
        var finished = await harness.CreateAsync(1);
        await harness.PatchAsync(finished, 0, "x"u8.ToArray());
        harness.Clock.Advance(TimeSpan.FromHours(2));
        var fresh = await harness.CreateAsync(10);

        (await harness.HeadAsync(expired)).StatusCode.Should().Be(410);
        (await harness.PatchAsync(expired, 0, "a"u8.ToArray())).StatusCode.Should().Be(410);
        (await harness.HeadAsync(finished)).StatusCode.Should().Be(200, "finished uploads do not expire");
        (await harness.HeadAsync(finished)).GetHeader("Upload-Expires").Should().BeNull();

        var removed = await harness.Engine.RemoveExpiredUploadsAsync(default);

        removed.Should().Be(1);
        (await harness.HeadAsync(expired)).StatusCode.Should().Be(404);
        (await harness.HeadAsync(fresh)).StatusCode.Should().Be(200);
        (await harness.HeadAsync(finished)).StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task Sweep_SkipsUploadsBeingWritten()
    {
        var harness = EngineHarness.Create(o => { o.Expiration = TimeSpan.FromHours(1); o.ReadTimeout = TimeSpan.FromMinutes(5); });
        var id = await harness.CreateAsync(100);
        var stalled = new StallingStream("abc"u8.ToArray());
        var request = new TestRequest("PATCH", id, stalled, 100).OffsetStream().Header("Upload-Offset", "0");
        var pending = harness.SendAsync(request);
        await stalled.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        harness.Clock.Advance(TimeSpan.FromHours(2));

        var removed = await harness.Engine.RemoveExpiredUploadsAsync(default);

        removed.Should().Be(0);
        await request.AbortSource.CancelAsync();
        await pending.WaitAsync(TimeSpan.FromSeconds(10));
        harness.Store.DataOf(id).Should().Equal("abc"u8.ToArray());
    }

    [Fact]
    public async Task Sweep_WithoutExpiration_RemovesNothing()
    {
        var harness = EngineHarness.Create();
        await harness.CreateAsync(10);
        harness.Clock.Advance(TimeSpan.FromDays(365));

        (await harness.Engine.RemoveExpiredUploadsAsync(default)).Should().Be(0);
        harness.Store.Count.Should().Be(1);
    }
}
