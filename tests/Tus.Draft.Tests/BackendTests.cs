using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.DependencyInjection;
using Tus.Stores;
using static Tus.Draft.Tests.Draft;

namespace Tus.Draft.Tests;

/// <summary>
/// The draft over the S3 store on a real S3 server (Ceph RGW) and the Consul locker on a real agent, through the same
/// operations as tus 1.0. Reads TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY, TUS_S3_SECRET_KEY, TUS_S3_REGION and
/// CONSUL_HTTP_ADDR (or TUS_CONSUL_ADDRESS); reports SKIPPED without them.
/// </summary>
public sealed class BackendTests
{
    private const string Bucket = "tus-draft-tests";

    [Fact]
    public async Task Draft_OverS3AndConsul_CreatesAppendsCompletesAndCancels()
    {
        var endpoint = Environment.GetEnvironmentVariable("TUS_S3_ENDPOINT");
        var accessKey = Environment.GetEnvironmentVariable("TUS_S3_ACCESS_KEY");
        var secretKey = Environment.GetEnvironmentVariable("TUS_S3_SECRET_KEY");
        var consul = Environment.GetEnvironmentVariable("TUS_CONSUL_ADDRESS") ?? Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR");
        Assert.SkipWhen(string.IsNullOrEmpty(endpoint) || accessKey is null || secretKey is null, "No S3 server: TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY and TUS_S3_SECRET_KEY are not set (bash eng/services/ceph.sh start).");
        Assert.SkipWhen(string.IsNullOrEmpty(consul), "No Consul agent: set TUS_CONSUL_ADDRESS or CONSUL_HTTP_ADDR (bash eng/services/consul.sh start).");

        var prefix = "draft-" + Guid.NewGuid().ToString("N")[..12] + "/";
        void Configure(S3StoreOptions o)
        {
            o.Bucket = Bucket;
            o.ObjectPrefix = prefix;
            o.Endpoint = new Uri(endpoint!);
            o.ForcePathStyle = true;
            o.Region = Environment.GetEnvironmentVariable("TUS_S3_REGION") ?? "us-east-1";
        }

        var options = new S3StoreOptions();
        Configure(options);
        using var client = new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), S3Store.CreateClientConfig(options));
        try
        {
            await client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket }, Ct);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }

        await using var server = await DraftServer.StartAsync(storage: tus => tus
            .AddS3Store(_ => client, Configure)
            .AddConsulLocker(o =>
            {
                o.Address = consul;
                o.KeyPrefix = "tus/draft-tests/" + Guid.NewGuid().ToString("N")[..8] + "/";
            }));

        var (created, path) = await CreateAsync(server, 8, complete: false, Bytes("resumable "));
        created[0].Status.Should().Be(104);
        created[^1].Status.Should().Be(201);
        var last = (await AppendAsync(server, 8, path, 10, complete: true, Bytes("uploads on S3")))[^1];
        last.Status.Should().Be(204);
        IsComplete(last, 8).Should().BeTrue();
        var head = await HeadAsync(server, 8, path);
        head.Header("Upload-Length").Should().Be("23");
        (await DownloadAsync(server, path)).BodyText.Should().Be("resumable uploads on S3");

        var (_, cancelled) = await CreateAsync(server, 8, complete: false, Bytes("gone"));
        (await SendAsync(server, "DELETE", cancelled, [Interop(8)]))[^1].Status.Should().Be(204);
        (await HeadAsync(server, 8, cancelled)).Status.Should().Be(404);
    }
}
