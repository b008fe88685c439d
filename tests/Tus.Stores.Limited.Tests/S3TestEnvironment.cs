using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Tus.Stores.Limited.Tests;

/// <summary>
/// The S3 server the S3 runs use, from the variables eng/services/ceph.sh writes (TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY,
/// TUS_S3_SECRET_KEY, TUS_S3_REGION). Without them the tests that need S3 report SKIPPED.
/// </summary>
public static class S3TestEnvironment
{
    public const string Bucket = "tus-limited-tests";

    private static readonly Lazy<Task<IAmazonS3?>> Shared = new(CreateAsync);

    private static string? Endpoint => Environment.GetEnvironmentVariable("TUS_S3_ENDPOINT");

    public static string SkipReason =>
        "No S3 server: TUS_S3_ENDPOINT, TUS_S3_ACCESS_KEY and TUS_S3_SECRET_KEY are not set (start one with `bash eng/services/ceph.sh start` and source artifacts/services/ceph/env).";

    /// <summary>The shared client, with the test bucket created; skips the running test when there is no server.</summary>
    public static async Task<IAmazonS3> RequireClientAsync()
    {
        var client = await Shared.Value;
        Assert.SkipWhen(client is null, SkipReason);
        return client!;
    }

    public static S3StoreOptions Options(string prefix) => new()
    {
        Bucket = Bucket,
        ObjectPrefix = prefix,
        Endpoint = new Uri(Endpoint!),
        ForcePathStyle = true,
        Region = Environment.GetEnvironmentVariable("TUS_S3_REGION") ?? "us-east-1",
    };

    public static string NewPrefix() => "q-" + Guid.NewGuid().ToString("N")[..12] + "/";

    /// <summary>Deletes every object and unfinished multipart upload under a prefix.</summary>
    public static async Task CleanAsync(IAmazonS3 client, string prefix)
    {
        var uploads = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = prefix });
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            await client.AbortMultipartUploadAsync(Bucket, upload.Key, upload.UploadId);
        }

        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix };
        while (true)
        {
            var page = await client.ListObjectsV2Async(request);
            if (page.S3Objects is { Count: > 0 } objects)
            {
                await client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = Bucket, Objects = objects.Select(o => new KeyVersion { Key = o.Key }).ToList() });
            }

            if (page.IsTruncated != true)
            {
                return;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    private static async Task<IAmazonS3?> CreateAsync()
    {
        if (string.IsNullOrEmpty(Endpoint) || Environment.GetEnvironmentVariable("TUS_S3_ACCESS_KEY") is null)
        {
            return null;
        }

        var client = new AmazonS3Client(
            new BasicAWSCredentials(Environment.GetEnvironmentVariable("TUS_S3_ACCESS_KEY"), Environment.GetEnvironmentVariable("TUS_S3_SECRET_KEY")),
            S3Store.CreateClientConfig(Options("")));
        try
        {
            await client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket });
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }

        return client;
    }
}
