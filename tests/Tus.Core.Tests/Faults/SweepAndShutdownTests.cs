using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Faults;

/// <summary>The expiration sweep next to a live PATCH, and the host's shutdown with its grace period.</summary>
public sealed class SweepAndShutdownTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sweep_WhileAPatchStreamsIntoAnExpiredLookingUpload_NeitherInterruptsNorRemovesIt()
    {
        var clock = new ManualClock();
        using var harness = FaultHarness.Create(o =>
        {
            o.Expiration = TimeSpan.FromHours(1);
            o.ReadTimeout = TimeSpan.FromSeconds(30);
        }, clock);
        var live = await harness.CreateAsync(20);
        var idle = await harness.CreateAsync(20);
        var body = new GatedStream(Encoding.ASCII.GetBytes("abc"));
        var pending = harness.SendAsync(FaultHarness.Patch(live, 0, body, null));
        await body.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var holder = harness.Locker.Granted.Single();
        clock.Advance(TimeSpan.FromHours(2));

        var removed = await harness.Engine.RemoveExpiredUploadsAsync(Ct);

        removed.Should().Be(1, "the idle expired upload goes");
        (await harness.Store.Inner.GetAsync(idle, Ct)).Should().BeNull();
        (await harness.Store.Inner.GetAsync(live, Ct)).Should().NotBeNull("the upload being written stays");
        harness.Log.Entries.Should().Contain("TryAcquire");
        holder.WasReleaseRequested.Should().BeFalse("the sweeper never asks a holder to let go");
        pending.IsCompleted.Should().BeFalse("the PATCH is still streaming");

        body.Gate.SetResult();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        response.StatusCode.Should().Be(204);
        response.GetHeader("Upload-Offset").Should().Be("3");
        harness.Store.Inner.DataOf(live).Should().Equal(Encoding.ASCII.GetBytes("abc"));
        (await harness.Engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(0, "the write moved the expiry on");
    }

    [Fact]
    public async Task Shutdown_BodiesEndAtOnceButStoreCallsRunUntilTheGracePeriodEnds()
    {
        var grace = TimeSpan.FromSeconds(10);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
        using var harness = FaultHarness.Create(o =>
        {
            o.ShutdownGracePeriod = grace;
            o.StoreCallTimeout = TimeSpan.FromHours(1);
            o.ReadTimeout = TimeSpan.FromHours(1);
        }, time);
        var id = await harness.CreateAsync(20);
        var bodyEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Store.Append = async (upload, data, token) =>
        {
            using var received = new MemoryStream();
            await data.CopyToAsync(received, token);
            bodyEnded.TrySetResult();
            await harness.Store.Inner.AppendAsync(upload, new MemoryStream(received.ToArray()), token);

            // Still persisting (flushing, completing a multipart upload...) when the host stops.
            await HookedStore.HangAsync(token);
            return received.Length;
        };
        var body = new GatedStream(Encoding.ASCII.GetBytes("abcde"));
        var pending = harness.SendAsync(FaultHarness.Patch(id, 0, body, 20));
        await body.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        await harness.Stopping.CancelAsync();
        await bodyEnded.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var storeToken = harness.Store.Tokens["Append"];
        time.Advance(grace - TimeSpan.FromMilliseconds(1));
        await Task.Delay(100, Ct);

        storeToken.IsCancellationRequested.Should().BeFalse("the store gets the whole grace period to finish");
        pending.IsCompleted.Should().BeFalse();

        time.Advance(TimeSpan.FromMilliseconds(2));
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        storeToken.IsCancellationRequested.Should().BeTrue();
        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_SERVER_SHUTDOWN");
        response.GetHeader("Upload-Offset").Should().Be("5");
        harness.Store.Inner.DataOf(id).Should().Equal(Encoding.ASCII.GetBytes("abcde"), "the bytes that arrived are kept");
    }

    [Fact]
    public async Task Shutdown_StoreFinishesWithinTheGracePeriod_AnswersShutdownWithTheBytesKept()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
        using var harness = FaultHarness.Create(o => o.ShutdownGracePeriod = TimeSpan.FromSeconds(10), time);
        var id = await harness.CreateAsync(20);
        var body = new GatedStream(Encoding.ASCII.GetBytes("abcde"));
        var pending = harness.SendAsync(FaultHarness.Patch(id, 0, body, 20));
        await body.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        await harness.Stopping.CancelAsync();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_SERVER_SHUTDOWN");
        response.GetHeader("Upload-Offset").Should().Be("5");
        harness.Store.Tokens["Append"].IsCancellationRequested.Should().BeFalse("the store finished before the grace period ended");
    }
}
