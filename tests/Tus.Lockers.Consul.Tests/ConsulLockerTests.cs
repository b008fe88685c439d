using System.Net.Http.Json;
using System.Text.Json;
using Tus.Lockers.Consul.Internal;
using Tus.Protocol;

namespace Tus.Lockers.Consul.Tests;

/// <summary>What the conformance suite cannot see: the keys and sessions in Consul, the release of sessions, failures.</summary>
public sealed class ConsulLockerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAsync_Session_HasTheConfiguredTtlLockDelayAndDeleteBehavior()
    {
        var address = ConsulAgent.Require();
        await using var locker = new ConsulLocker(ConsulAgent.Options(address));

        var held = (ConsulLock)await locker.AcquireAsync(UploadId.New(), Ct);
        using var http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/") };
        var info = await http.GetFromJsonAsync<JsonElement>("v1/session/info/" + held.SessionId, Ct);

        var session = info[0];
        session.GetProperty("Behavior").GetString().Should().Be("delete");
        session.GetProperty("TTL").GetString().Should().BeOneOf("10s", "10000ms");
        session.GetProperty("Name").GetString().Should().StartWith("tus ");
        session.GetProperty("LockDelay").GetInt64().Should().Be(2_000_000_000);
        await held.DisposeAsync();
    }
}
