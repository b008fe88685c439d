using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Tus.Core.Tests.Infrastructure;
using Tus.Protocol;

namespace Tus.Hooks.Tests;

/// <summary>A whole upload's lifecycle through hooks registered with DI: every event, its data and its order.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task WholeLifecycle_RaisesEveryEventWithItsDataAndInOrder()
    {
        var recorder = new Recorder();
        using var host = HookHost.Create(t => t.AddHooks(recorder));
        var seen = 0;

        // Each step's events, once its post-hooks have run too.
        async Task<List<Recorder.Entry>> Step(Func<Task> request)
        {
            await request();
            await host.PostHooksRunAsync();
            var entries = recorder.Entries;
            var step = entries.Skip(seen).ToList();
            seen = entries.Count;
            return step;
        }

        string id = "";
        var create = await Step(async () => id = await host.CreateAsync(10, metadata: "filename aGVsbG8udHh0"));
        var firstPatch = await Step(async () => (await host.PatchAsync(id, 0, "hello")).StatusCode.Should().Be(204));
        var head = await Step(async () => (await host.SendAsync("HEAD", id)).StatusCode.Should().Be(200));
        var lastPatch = await Step(async () => (await host.PatchAsync(id, 5, "world")).StatusCode.Should().Be(204));
        var get = await Step(async () => (await host.SendAsync("GET", id)).StatusCode.Should().Be(200));
        var delete = await Step(async () => (await host.SendAsync("DELETE", id)).StatusCode.Should().Be(204));

        create.Should().Equal(
            new Recorder.Entry(HookEvents.PreCreate, id, 10, "POST", "/files/", "hello.txt"),
            new Recorder.Entry(HookEvents.PostCreate, id, 0, "POST", "/files/", "hello.txt"));
        firstPatch.Should().Equal(
            new Recorder.Entry(HookEvents.Authorize, id, 0, "PATCH", "/files/" + id, "Write"),
            new Recorder.Entry(HookEvents.PostReceive, id, 5, "PATCH", "/files/" + id, null));
        head.Should().Equal(new Recorder.Entry(HookEvents.Authorize, id, 5, "HEAD", "/files/" + id, "GetInfo"));
        lastPatch[0].Should().Be(new Recorder.Entry(HookEvents.Authorize, id, 5, "PATCH", "/files/" + id, "Write"));
        lastPatch.Skip(1).Should().BeEquivalentTo([
            new Recorder.Entry(HookEvents.PostReceive, id, 10, "PATCH", "/files/" + id, null),
            new Recorder.Entry(HookEvents.PreFinish, id, 10, "PATCH", "/files/" + id, null),
            new Recorder.Entry(HookEvents.PostFinish, id, 10, "PATCH", "/files/" + id, null)]);
        lastPatch.FindIndex(e => e.Event == HookEvents.PostFinish).Should().BeGreaterThan(
            lastPatch.FindIndex(e => e.Event == HookEvents.PreFinish), "post-finish comes after pre-finish");
        get.Should().Equal(new Recorder.Entry(HookEvents.Authorize, id, 10, "GET", "/files/" + id, "Download"));
        delete.Should().Equal(
            new Recorder.Entry(HookEvents.Authorize, id, 10, "DELETE", "/files/" + id, "Terminate"),
            new Recorder.Entry(HookEvents.PreTerminate, id, 10, "DELETE", "/files/" + id, null),
            new Recorder.Entry(HookEvents.PostTerminate, id, 10, "DELETE", "/files/" + id, null));
    }

    [Fact]
    public async Task HandlersOfOneEvent_RunInRegistrationOrder_ClassesAndDelegatesAlike()
    {
        var calls = new List<string>();
        using var host = HookHost.Create(t => t
            .OnPreCreate((_, _) => { calls.Add("first"); return ValueTask.CompletedTask; })
            .AddHooks(new NamedPreCreate("second", calls))
            .OnPreCreate((c, _) => { calls.Add("third saw " + c.Metadata.GetString("by")); return ValueTask.CompletedTask; }));

        await host.CreateAsync(1, metadata: "by c2Vjb25k");

        calls.Should().Equal("first", "second", "third saw second");
    }

    [Fact]
    public async Task AddHooksOfAType_IsCreatedFromTheContainerOnce()
    {
        using var host = HookHost.Create(t =>
        {
            t.Services.AddSingleton<List<string>>();
            t.AddHooks<ContainerMadeHook>().AddHooks<ContainerMadeHook>();
        });

        await host.CreateAsync(1);
        await host.PostHooksRunAsync();

        host.Engine.Hooks.PostHookFailures.Should().Be(0);
        ContainerMadeHook.Created.Should().Be(1, "adding the same type twice adds it once");
    }

    [Fact]
    public async Task PostHooks_OfManyUploadsAtOnce_KeepEachUploadsOrder()
    {
        var seen = new List<(string Id, string Event)>();
        ValueTask Record(string id, string hookEvent)
        {
            lock (seen)
            {
                seen.Add((id, hookEvent));
            }

            return ValueTask.CompletedTask;
        }

        using var host = HookHost.Create(
            t => t.OnPostCreate((c, _) => Record(c.Upload.Id, HookEvents.PostCreate))
                .OnPostReceive((c, _) => Record(c.Upload.Id, HookEvents.PostReceive))
                .OnPostFinish(async (c, ct) => { await Task.Yield(); await Record(c.Upload.Id, HookEvents.PostFinish); })
                .OnPostTerminate((c, _) => Record(c.Upload.Id, HookEvents.PostTerminate)),
            o => o.Hooks.PostHookConcurrency = 3);

        var ids = await Task.WhenAll(Enumerable.Range(0, 24).Select(async _ =>
        {
            var id = await host.CreateAsync(4);
            (await host.PatchAsync(id, 0, "ab")).StatusCode.Should().Be(204);
            (await host.PatchAsync(id, 2, "cd")).StatusCode.Should().Be(204);
            (await host.SendAsync("DELETE", id)).StatusCode.Should().Be(204);
            return id;
        }));
        await host.PostHooksRunAsync();

        foreach (var id in ids)
        {
            seen.Where(s => s.Id == id).Select(s => s.Event).Should().Equal(
                [HookEvents.PostCreate, HookEvents.PostReceive, HookEvents.PostReceive, HookEvents.PostFinish, HookEvents.PostTerminate],
                "one upload's events run in the order they happened");
        }
    }

    [Fact]
    public async Task SlowPostHooks_DoNotSlowUploads()
    {
        // Every post-hook blocks until the end of the test: uploads must go on regardless.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ran = 0;
        async ValueTask Blocked(CancellationToken ct)
        {
            await gate.Task.WaitAsync(ct);
            Interlocked.Increment(ref ran);
        }

        using var host = HookHost.Create(
            t => t.OnPostCreate((_, ct) => Blocked(ct)).OnPostReceive((_, ct) => Blocked(ct)).OnPostFinish((_, ct) => Blocked(ct)),
            o => o.Hooks.PostHookConcurrency = 1);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var uploads = Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                var id = await host.CreateAsync(5);
                (await host.PatchAsync(id, 0, "hello")).StatusCode.Should().Be(204);
            }
        });

        // A hook that blocked requests would make this time out (the hooks are released only below).
        await uploads.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "30 uploads while every post-hook is blocked (a blocking hook would never let them finish)");
        ran.Should().Be(0, "no post-hook has been let through yet");
        gate.SetResult();
        await host.PostHooksRunAsync();
        ran.Should().Be(90, "each upload's post-create, post-receive and post-finish ran once the hooks were let go");
    }

    [Fact]
    public async Task PostHookQueue_Full_DropsNewEventsCountsThemAndRequestsGoOn()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = HookHost.Create(
            t => t.OnPostCreate(async (_, ct) => await gate.Task.WaitAsync(ct)),
            o =>
            {
                o.Hooks.PostHookConcurrency = 1;
                o.Hooks.PostHookQueueCapacity = 2;
            });

        for (var i = 0; i < 6; i++)
        {
            await host.CreateAsync(1);
        }

        host.Engine.Hooks.PostHookDropped.Should().BeGreaterThanOrEqualTo(3, "one event runs, two wait, the rest find the queue full");
        host.Logger.Entries.Should().Contain(e => e.Contains("post-hook queue is full", StringComparison.Ordinal));
        gate.SetResult();
        await host.PostHooksRunAsync();
    }

    [Fact]
    public async Task PostHook_Throwing_IsLoggedAndCountedAndNeverTurnsAStoredUploadInto5xx()
    {
        using var host = HookHost.Create(t => t
            .OnPostCreate((_, _) => throw new InvalidOperationException("post-create broke"))
            .OnPostFinish((_, _) => throw new InvalidOperationException("post-finish broke")));

        var id = await host.CreateAsync(2);
        var patch = await host.PatchAsync(id, 0, "ok");
        await host.PostHooksRunAsync();

        patch.StatusCode.Should().Be(204);
        host.Store.DataOf(id).Should().Equal("ok"u8.ToArray());
        host.Engine.Hooks.PostHookFailures.Should().Be(2);
        host.Logger.Entries.Should().Contain(e => e.StartsWith("Warning", StringComparison.Ordinal) && e.Contains("post-finish broke", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PostHook_Hung_IsAbandonedAfterItsTimeoutAndTheNextEventRuns()
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = HookHost.Create(
            t => t.OnPostCreate(async (_, _) => await Task.Delay(Timeout.Infinite, CancellationToken.None))
                .OnPostFinish((_, _) => { finished.TrySetResult(); return ValueTask.CompletedTask; }),
            o =>
            {
                o.Hooks.PostHookConcurrency = 1;
                o.Hooks.PostHookTimeout = TimeSpan.FromMilliseconds(200);
            });

        var id = await host.CreateAsync(1);
        (await host.PatchAsync(id, 0, "x")).StatusCode.Should().Be(204);

        await finished.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        host.Engine.Hooks.PostHookFailures.Should().Be(1, "the hung post-create counts as failed");
    }

    private sealed class NamedPreCreate(string name, List<string> calls) : ITusPreCreateHook
    {
        public ValueTask OnPreCreateAsync(PreCreateContext context, CancellationToken cancellationToken)
        {
            calls.Add(name);
            context.Metadata = context.Metadata.With("by", "second"u8.ToArray());
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ContainerMadeHook : ITusPostCreateHook
    {
        public ContainerMadeHook(List<string> dependency)
        {
            dependency.Add("made");
            Interlocked.Increment(ref _created);
        }

        private static int _created;

        public static int Created => _created;

        public ValueTask OnPostCreateAsync(UploadEventContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
