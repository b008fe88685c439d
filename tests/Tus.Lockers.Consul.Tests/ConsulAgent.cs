namespace Tus.Lockers.Consul.Tests;

/// <summary>The Consul agent the tests use: the address eng/services/consul.sh exports (TUS_CONSUL_ADDRESS or
/// CONSUL_HTTP_ADDR). Without one, tests report SKIPPED with the reason instead of passing.</summary>
internal static class ConsulAgent
{
    public static string? Address =>
        Environment.GetEnvironmentVariable("TUS_CONSUL_ADDRESS") is { Length: > 0 } address ? address
        : Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR") is { Length: > 0 } fallback ? fallback
        : null;

    public const string SkipReason =
        "No Consul agent: set TUS_CONSUL_ADDRESS or CONSUL_HTTP_ADDR (bash eng/services/consul.sh install && bash eng/services/consul.sh start, then source artifacts/services/consul/env).";

    /// <summary>The agent's address, or a dynamic skip of the running test.</summary>
    public static string Require()
    {
        var address = Address;
        Assert.SkipWhen(address is null, SkipReason);
        return address!;
    }

    /// <summary>Options for a test: a key prefix of its own so tests never see each other's keys.</summary>
    public static ConsulLockerOptions Options(string address) => new()
    {
        Address = address,
        KeyPrefix = "tus-tests/" + Guid.NewGuid().ToString("N") + "/",
        SessionTtl = TimeSpan.FromSeconds(10),
        LockDelay = TimeSpan.FromSeconds(2),
    };

    /// <summary>Destroys a session behind its holder's back, as an operator (or a failed health check) would.</summary>
    public static async Task DestroySessionAsync(string address, string sessionId, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/") };
        using var response = await http.PutAsync("v1/session/destroy/" + sessionId, null, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
