using Tus.Server.Tests;

namespace Tus.MultiInstance.Tests;

/// <summary>Tus.Server's locker settings: a wrong choice or an unreachable Consul stops the server at start, with a message.</summary>
public sealed class ServerLockerSettingsTests
{
    [Fact]
    public async Task Server_UnknownLocker_ExitsWithCode2AndSaysWhatIsExpected()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(["--port", "0", "--host", "127.0.0.1", "--locker", "redis"]);

        exitCode.Should().Be(2);
        stderr.Should().Contain("--locker").And.Contain("expected memory or consul");
    }

    [Fact]
    public async Task Server_ConsulUnreachable_ExitsWithCode2AndNamesTheAddress()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(
            ["--port", "0", "--host", "127.0.0.1", "--upload-dir", ServerProcess.NewDirectory(), "--locker", "consul", "--consul-address", "http://127.0.0.1:1"]);

        exitCode.Should().Be(2);
        stderr.Should().Contain("ConsulLockerOptions.Address").And.Contain("127.0.0.1:1");
    }

    [Fact]
    public async Task Server_ConsulAddressFromEnvironment_StartsWithTheConsulLocker()
    {
        var address = ConsulAgent.Require();
        await using var server = await ServerProcess.StartAsync(
            ["--port", "0", "--host", "127.0.0.1", "--upload-dir", ServerProcess.NewDirectory(), "--locker", "consul"],
            new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = address, ["TUS_CONSUL_KEY_PREFIX"] = ConsulAgent.NewKeyPrefix() });

        server.StandardOutput.Should().Contain($"Setting ConsulAddress = {address} (CONSUL_HTTP_ADDR)").And.Contain("Setting Locker = consul (--locker)");
    }
}
