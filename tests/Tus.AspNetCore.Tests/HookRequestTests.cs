using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace Tus.AspNetCore.Tests;

/// <summary>What hooks see of an ASP.NET Core request: every header and the client's endpoint.</summary>
public sealed class HookRequestTests
{
    [Fact]
    public async Task Hooks_OverKestrel_SeeEveryHeaderAndTheRemoteEndPoint()
    {
        List<KeyValuePair<string, string>>? headers = null;
        IPEndPoint? remote = null;
        await using var server = await TestServer.StartAsync(configureServices: (builder, directory) =>
            builder.Services.AddTus().OnPreCreate((context, _) =>
            {
                headers = context.Request.Headers.ToList();
                remote = context.Request.RemoteEndPoint;
                return ValueTask.CompletedTask;
            }).AddFileStore(o => o.Directory = directory).AddMemoryLocker());
        // Raw, so that the repeated header arrives as two lines (HttpClient would join the values into one).
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.BaseAddress.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /files/ HTTP/1.1\r\nHost: 127.0.0.1:{server.BaseAddress.Port}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 3\r\n" +
            "X-Tenant: alpha\r\nX-Tenant: beta\r\nContent-Length: 0\r\n\r\n"), TestContext.Current.CancellationToken);
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var response = Encoding.ASCII.GetString(buffer, 0, read);

        response.Should().StartWith("HTTP/1.1 201");
        headers.Should().Contain(new KeyValuePair<string, string>("Upload-Length", "3"));
        headers!.Where(h => h.Key.Equals("X-Tenant", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value)
            .Should().BeEquivalentTo(["alpha", "beta"], "each value of a repeated header is a pair of its own");
        remote.Should().NotBeNull();
        remote!.Address.Should().Be(IPAddress.Loopback);
        remote.Port.Should().BePositive();
    }
}
