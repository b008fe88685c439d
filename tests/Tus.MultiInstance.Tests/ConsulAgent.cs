namespace Tus.MultiInstance.Tests;

/// <summary>The Consul agent eng/services/consul.sh started (TUS_CONSUL_ADDRESS or CONSUL_HTTP_ADDR); without one, the
/// tests that need it report SKIPPED with the reason.</summary>
internal static class ConsulAgent
{
    public static string Require()
    {
        var address = Environment.GetEnvironmentVariable("TUS_CONSUL_ADDRESS") is { Length: > 0 } a ? a
            : Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR") is { Length: > 0 } b ? b
            : null;
        Assert.SkipWhen(address is null, "No Consul agent: set TUS_CONSUL_ADDRESS or CONSUL_HTTP_ADDR (bash eng/services/consul.sh install && bash eng/services/consul.sh start, then source artifacts/services/consul/env).");
        return address!;
    }

    public static string NewKeyPrefix() => "tus-mi/" + Guid.NewGuid().ToString("N") + "/";
}
