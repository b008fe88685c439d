using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Tus.Server.Tests;

/// <summary>
/// Readiness of the server on real backends (Ceph RGW from TUS_S3_ENDPOINT, a Consul agent from CONSUL_HTTP_ADDR), each
/// reached through a proxy the test can cut.
/// </summary>
public sealed class BackendReadinessTests
{
    private const string Bucket = "tus-server-readiness";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ready_WhenTheS3EndpointBecomesUnreachable_Is503_AndReadyAgainAfter()
    {
        var endpoint = Environment.GetEnvironmentVariable("TUS_S3_ENDPOINT");
        var accessKey = Environment.GetEnvironmentVariable("TUS_S3_ACCESS_KEY");
        var secretKey = Environment.GetEnvironmentVariable("TUS_S3_SECRET_KEY");
        Assert.SkipWhen(string.IsNullOrEmpty(endpoint) || accessKey is null || secretKey is null,
            "No S3 server: TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY and TUS_S3_SECRET_KEY are not set (start one with `bash eng/services/ceph.sh start`).");
        var target = new Uri(endpoint!);
        using (var client = new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            // A region given, so the SDK never goes looking for one beyond the loopback endpoint.
            RegionEndpoint = Amazon.RegionEndpoint.USEast1,
            ServiceURL = endpoint,
            AuthenticationRegion = "us-east-1",
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        }))
        {
            try
            {
                await client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket }, Ct);
            }
            catch (AmazonS3Exception ex) when (ex.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
            }
        }

        await using var proxy = new TcpProxy(target.Host, target.Port);
        await using var server = await ServerProcess.StartAsync(
            ["--host", "127.0.0.1", "--port", "0", "--store", "s3", "--s3-bucket", Bucket, "--s3-force-path-style",
             "--s3-object-prefix", "ready-" + Guid.NewGuid().ToString("N")[..8] + "/", "--s3-endpoint", $"http://127.0.0.1:{proxy.Port}"],
            new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = accessKey!, ["AWS_SECRET_ACCESS_KEY"] = secretKey! });
        var ready = new Uri(server.Root, "ready");

        (await StatusAsync(server, ready)).Should().Be(HttpStatusCode.OK);

        proxy.Stop();
        (await StatusAsync(server, ready)).Should().Be(HttpStatusCode.ServiceUnavailable);

        proxy.Start();
        (await StatusAsync(server, ready)).Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Ready_WhenConsulBecomesUnreachable_Is503_AndReadyAgainAfter()
    {
        var consul = Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR");
        Assert.SkipWhen(string.IsNullOrEmpty(consul), "No Consul agent: CONSUL_HTTP_ADDR is not set (start one with `bash eng/services/consul.sh start`).");
        var target = new Uri(consul!.Contains("://", StringComparison.Ordinal) ? consul : "http://" + consul);

        await using var proxy = new TcpProxy(target.Host, target.Port);
        await using var server = await ServerProcess.StartAsync(
            ["--host", "127.0.0.1", "--port", "0", "--upload-dir", ServerProcess.NewDirectory(), "--locker", "consul",
             "--consul-address", $"http://127.0.0.1:{proxy.Port}", "--consul-key-prefix", "tus-ready-" + Guid.NewGuid().ToString("N")[..8] + "/"]);
        var ready = new Uri(server.Root, "ready");

        (await StatusAsync(server, ready)).Should().Be(HttpStatusCode.OK);

        proxy.Stop();
        (await StatusAsync(server, ready)).Should().Be(HttpStatusCode.ServiceUnavailable);
        (await server.WaitForOutputAsync("Not ready: locker:")).Should().Contain("Not ready: locker:");

        proxy.Start();
        (await StatusAsync(server, ready)).Should().Be(HttpStatusCode.OK);
    }

    private static async Task<HttpStatusCode> StatusAsync(ServerProcess server, Uri ready)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await server.Client.GetAsync(ready, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"/ready: {(int)response.StatusCode} after {watch.ElapsedMilliseconds} ms");
        return response.StatusCode;
    }
}
