using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace Tus.Stores.Internal;

/// <summary>Maps what the SDK throws to the store exceptions the engine answers with stable codes.</summary>
internal static class S3Errors
{
    public static bool IsNotFound(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode is "NoSuchKey" or "NoSuchUpload" or "NotFound";

    /// <summary>Translates <paramref name="exception"/>, or returns <see langword="null"/> to let it propagate as it is.</summary>
    /// <param name="exception">What an S3 call threw.</param>
    /// <param name="what">The operation and key, for logs.</param>
    /// <param name="cancellationToken">The call's token: a cancellation it caused always propagates unchanged.</param>
    public static Exception? Translate(Exception exception, string what, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        switch (exception)
        {
            case AmazonS3Exception s3 when s3.ErrorCode is "QuotaExceeded" or "InsufficientCapacity" or "InsufficientStorage" || (int)s3.StatusCode == 507:
                return new StorageFullException($"S3 has no room for {what}: {s3.ErrorCode}.", s3);
            case AmazonS3Exception s3 when (int)s3.StatusCode >= 500 || s3.ErrorCode is "SlowDown" or "ServiceUnavailable" or "InternalError" or "RequestTimeout" or "NoSuchBucket":
                return new StoreUnavailableException($"S3 failed {what}: {(int)s3.StatusCode} {s3.ErrorCode}.", s3);
            case AmazonServiceException:
                return null;
            case AmazonClientException or HttpRequestException or IOException or SocketException or TimeoutException:
            case OperationCanceledException: // an HTTP timeout of the SDK's own, not the caller's token
                return new StoreUnavailableException($"S3 could not be reached for {what}.", exception);
            default:
                return null;
        }
    }
}
