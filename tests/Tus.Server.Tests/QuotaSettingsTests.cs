using System.Net;

namespace Tus.Server.Tests;

/// <summary>The quota flags: the server wraps its store in Tus.Stores.Limited.</summary>
public sealed class QuotaSettingsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task QuotaBytes_UploadThatDoesNotFit_IsRefusedWith413QuotaExceeded()
    {
        var dir = ServerProcess.NewDirectory();
        await using var server = await ServerProcess.StartAsync(["--host", "127.0.0.1", "--port", "0", "--upload-dir", dir, "--quota-bytes", "100"]);

        using var fits = await PostAsync(server, 100);
        using var refused = await PostAsync(server, 1);

        fits.StatusCode.Should().Be(HttpStatusCode.Created);
        refused.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await refused.Content.ReadAsStringAsync(Ct)).Should().StartWith("ERR_QUOTA_EXCEEDED");
        server.StandardOutput.Should().Contain("Quota accounting rebuilt");
    }

    [Fact]
    public async Task QuotaReclaimAfter_WithoutAQuota_ExitsWith2()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(["--quota-reclaim-after", "1d"]);

        exitCode.Should().Be(2);
        stderr.Should().Contain("--quota-reclaim-after").And.Contain("need a quota");
    }

    private static async Task<HttpResponseMessage> PostAsync(ServerProcess server, long length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await server.Client.SendAsync(request, Ct);
    }
}
