using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tus.Lockers.Consul.Internal;
using Tus.Locking;
using Tus.Protocol;

namespace Tus.Lockers.Consul.Tests;

/// <summary>What the conformance suite cannot see: the keys and sessions in Consul, timings across lockers, failures.</summary>
public sealed class ConsulLockerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAsync_Session_HasTheConfiguredTtlLockDelayAndDeleteBehavior()
    {
        var address = ConsulAgent.Require();
        await using var locker = new ConsulLocker(ConsulAgent.Options(address));

        var held = (ConsulLock)await locker.AcquireAsync(UploadId.New(), Ct);
        using var http = Http(address);
        var info = await http.GetFromJsonAsync<JsonElement>("v1/session/info/" + held.SessionId, Ct);

        var session = info[0];
        session.GetProperty("Behavior").GetString().Should().Be("delete");
        session.GetProperty("TTL").GetString().Should().BeOneOf("10s", "10000ms");
        session.GetProperty("Name").GetString().Should().StartWith("tus ");
        session.GetProperty("LockDelay").GetInt64().Should().Be(2_000_000_000);
        await held.DisposeAsync();
    }

    [Fact]
    public async Task DisposeAsync_EveryLockAndWaiterGone_LeavesNoKeyAndNoSession()
    {
        var address = ConsulAgent.Require();
        var options = ConsulAgent.Options(address);
        await using var locker = new ConsulLocker(options);
        await using var peer = new ConsulLocker(options);
        var id = UploadId.New();

        var first = await locker.AcquireAsync(id, Ct);
        var other = await peer.AcquireAsync(UploadId.New(), Ct);
        var waiting = peer.AcquireAsync(id, Ct).AsTask();
        await Task.Delay(200, Ct);
        await first.DisposeAsync();
        await (await waiting).DisposeAsync();
        await other.DisposeAsync();

        using var http = Http(address);
        var clock = Stopwatch.StartNew();
        while (locker.SessionCount + peer.SessionCount > 0 || await SessionsNamedAsync(http, id) > 0)
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the sessions of released locks must be destroyed");
            await Task.Delay(50, Ct);
        }

        using var keys = await http.GetAsync("v1/kv/" + options.KeyPrefix + "?keys", Ct);
        keys.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound, "no lock or queue key may be left behind: " + await keys.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ReleaseRequested_WaiterInAnotherLocker_FiresWithinASecondAndTheWaiterProceedsWithinASecond()
    {
        var address = ConsulAgent.Require();
        var options = ConsulAgent.Options(address);
        await using var instanceA = new ConsulLocker(options);
        await using var instanceB = new ConsulLocker(options);
        var id = UploadId.New();
        var held = await instanceA.AcquireAsync(id, Ct);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        held.ReleaseRequested.Register(() => asked.TrySetResult());

        var clock = Stopwatch.StartNew();
        var waiting = instanceB.AcquireAsync(id, Ct).AsTask();
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var toSignal = clock.Elapsed;
        clock.Restart();
        await held.DisposeAsync();
        var next = await waiting.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var toGrant = clock.Elapsed;

        toSignal.Should().BeLessThan(TimeSpan.FromSeconds(1));
        toGrant.Should().BeLessThan(TimeSpan.FromSeconds(1));
        next.FencingToken.Should().BeGreaterThan(held.FencingToken);
        TestContext.Current.TestOutputHelper?.WriteLine($"release request crossed lockers in {toSignal.TotalMilliseconds:F1} ms; the waiter was granted {toGrant.TotalMilliseconds:F1} ms after the release");
        await next.DisposeAsync();
    }

    [Fact]
    public async Task Lost_SessionDestroyed_FiresBeforeTheLockDelayLetsTheWaiterIn()
    {
        var address = ConsulAgent.Require();
        var options = ConsulAgent.Options(address);
        await using var instanceA = new ConsulLocker(options);
        await using var instanceB = new ConsulLocker(options);
        var id = UploadId.New();
        var held = (ConsulLock)await instanceA.AcquireAsync(id, Ct);
        var lost = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        held.Lost.Register(() => lost.TrySetResult(clock.Elapsed));
        var waiting = instanceB.AcquireAsync(id, Ct).AsTask();
        await Task.Delay(200, Ct);

        clock.Restart();
        await ConsulAgent.DestroySessionAsync(address, held.SessionId, Ct);
        var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var granted = clock.Elapsed;
        var lostAt = await lost.Task.WaitAsync(TimeSpan.FromSeconds(1), Ct);

        lostAt.Should().BeLessThan(TimeSpan.FromSeconds(1), "the holder's watch sees its key go at once");
        granted.Should().BeGreaterThan(lostAt + TimeSpan.FromSeconds(1), "the lock delay (2 s here) keeps the key from the waiter well after the old holder was told");
        held.ReleaseRequested.IsCancellationRequested.Should().BeTrue("the waiter had asked for the upload");
        next.FencingToken.Should().BeGreaterThan(held.FencingToken);
        await held.DisposeAsync();
        await next.DisposeAsync();
    }

    [Fact]
    public async Task DisposeAsync_LockerWithALockHeld_FiresLostAndTheLockStillDisposesQuietly()
    {
        var address = ConsulAgent.Require();
        var options = ConsulAgent.Options(address);
        var locker = new ConsulLocker(options);
        var id = UploadId.New();
        var held = await locker.AcquireAsync(id, Ct);

        await locker.DisposeAsync();

        held.Lost.IsCancellationRequested.Should().BeTrue();
        await held.DisposeAsync();
        await using var other = new ConsulLocker(options);
        await (await other.AcquireAsync(id, Ct)).DisposeAsync();
    }

    [Fact]
    public async Task AcquireAsync_ConsulUnreachable_FailsFastWithACodedRetryableError()
    {
        await using var locker = new ConsulLocker(new ConsulLockerOptions { Address = "http://127.0.0.1:1" });
        var clock = Stopwatch.StartNew();

        var acquire = await Record.ExceptionAsync(() => locker.AcquireAsync(UploadId.New(), Ct).AsTask());
        var tryAcquire = await Record.ExceptionAsync(() => locker.TryAcquireAsync(UploadId.New(), Ct).AsTask());

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        foreach (var exception in new[] { acquire, tryAcquire })
        {
            var unavailable = exception.Should().BeOfType<ConsulUnavailableException>().Subject;
            unavailable.Error.Code.Should().Be("ERR_LOCKER_UNAVAILABLE");
            unavailable.Error.StatusCode.Should().Be(503);
            unavailable.Error.Message.Should().NotContain("127.0.0.1", "the client-facing message carries no internals");
        }
    }

    [Fact]
    public void Constructor_InvalidOptions_ReportsEveryProblemAtOnce()
    {
        var options = new ConsulLockerOptions
        {
            Address = "ftp://consul",
            KeyPrefix = "/bad prefix",
            SessionTtl = TimeSpan.FromSeconds(5),
            LockDelay = TimeSpan.FromSeconds(90),
            RequestTimeout = TimeSpan.Zero,
        };

        options.Validate().Should().HaveCount(5);
        var thrown = Assert.Throws<ArgumentException>(() => new ConsulLocker(options));
        thrown.Message.Should().Contain("SessionTtl").And.Contain("LockDelay").And.Contain("Address").And.Contain("KeyPrefix").And.Contain("RequestTimeout");
    }

    [Fact]
    public void Options_AddressWithoutScheme_GetsHttp()
    {
        new ConsulLockerOptions { Address = "127.0.0.1:8500" }.ResolveAddress().Should().Be("http://127.0.0.1:8500/");
        new ConsulLockerOptions { Address = "https://consul.internal:8501/" }.ResolveAddress().Should().Be("https://consul.internal:8501/");
    }

    [Fact]
    public async Task AddConsulLocker_RegistersTheLockerAndAStartupCheckThatNamesAnUnreachableAgent()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTus().AddPlaceholderLocker().AddConsulLocker(o => o.Address = "http://127.0.0.1:1");
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<ITusLocker>().Should().BeOfType<ConsulLocker>();
        var problems = new List<string>();
        foreach (var check in provider.GetServices<ITusStartupCheck>())
        {
            problems.AddRange(await check.CheckAsync(Ct));
        }

        problems.Should().ContainSingle().Which.Should().Contain("ConsulLockerOptions.Address").And.Contain("127.0.0.1:1");
    }

    [Fact]
    public async Task AddConsulLocker_ReachableAgent_StartupCheckPasses()
    {
        var address = ConsulAgent.Require();
        var services = new ServiceCollection();
        services.AddTus().AddConsulLocker(o => o.Address = address);
        await using var provider = services.BuildServiceProvider();

        var problems = new List<string>();
        foreach (var check in provider.GetServices<ITusStartupCheck>())
        {
            problems.AddRange(await check.CheckAsync(Ct));
        }

        problems.Should().BeEmpty();
        provider.GetRequiredService<ConsulLocker>().SessionCount.Should().Be(0, "the check's session is destroyed");
    }

    private static HttpClient Http(string address) => new() { BaseAddress = new Uri(address.TrimEnd('/') + "/") };

    private static async Task<int> SessionsNamedAsync(HttpClient http, string uploadId)
    {
        var sessions = await http.GetFromJsonAsync<JsonElement>("v1/session/list", Ct);
        return sessions.EnumerateArray().Count(s => s.GetProperty("Name").GetString()!.Contains(uploadId, StringComparison.Ordinal));
    }
}

internal static class BuilderTestExtensions
{
    // Stands for "another locker was registered first": AddConsulLocker must replace it.
    public static Tus.ITusBuilder AddPlaceholderLocker(this Tus.ITusBuilder builder)
    {
        builder.Services.AddSingleton<ITusLocker>(new NoLocker());
        return builder;
    }

    private sealed class NoLocker : ITusLocker
    {
        public ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
