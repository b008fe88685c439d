using Microsoft.Extensions.Logging;

namespace Tus.Engine;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Unexpected failure handling {Method} {Path}")]
    public static partial void UnexpectedFailure(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(2, LogLevel.Warning, "Store failure handling {Method} {Path}: {Code}")]
    public static partial void StoreFailure(ILogger logger, Exception exception, string method, string path, string code);

    [LoggerMessage(3, LogLevel.Information, "Upload {UploadId} created (length {Length})")]
    public static partial void UploadCreated(ILogger logger, string uploadId, long? length);

    [LoggerMessage(4, LogLevel.Information, "Upload {UploadId} completed ({Length} bytes)")]
    public static partial void UploadCompleted(ILogger logger, string uploadId, long? length);

    [LoggerMessage(5, LogLevel.Information, "Upload {UploadId} terminated")]
    public static partial void UploadTerminated(ILogger logger, string uploadId);

    [LoggerMessage(6, LogLevel.Information, "Write to {UploadId} ended early ({Reason}) after {Bytes} bytes; the bytes are kept")]
    public static partial void WriteEndedEarly(ILogger logger, string uploadId, string reason, long bytes);

    [LoggerMessage(7, LogLevel.Information, "Checksum mismatch on {UploadId}: {Bytes} bytes discarded")]
    public static partial void ChecksumMismatch(ILogger logger, string uploadId, long bytes);

    [LoggerMessage(8, LogLevel.Information, "Expired upload {UploadId} removed")]
    public static partial void ExpiredRemoved(ILogger logger, string uploadId);

    [LoggerMessage(9, LogLevel.Warning, "Could not remove expired upload {UploadId}")]
    public static partial void ExpiredRemovalFailed(ILogger logger, Exception exception, string uploadId);

    [LoggerMessage(10, LogLevel.Debug, "Request rejected: {Method} {Path} -> {Code}")]
    public static partial void Rejected(ILogger logger, string method, string path, string code);

    [LoggerMessage(11, LogLevel.Warning, "Could not read upload {UploadId} again after a failed store call; answering without its offset")]
    public static partial void RereadFailed(ILogger logger, Exception exception, string uploadId);

    [LoggerMessage(12, LogLevel.Warning, "Append to {UploadId} failed after {Bytes} bytes were read; the store kept offset {Offset}: {Code}")]
    public static partial void AppendFailed(ILogger logger, Exception exception, string uploadId, long bytes, long? offset, string code);

    [LoggerMessage(13, LogLevel.Warning, "The lease on upload {UploadId} was lost mid-request; the request stopped with the bytes stored so far")]
    public static partial void LeaseLost(ILogger logger, string uploadId);

    [LoggerMessage(14, LogLevel.Warning, "Listing uploads for the expiration sweep failed; the next sweep tries again")]
    public static partial void SweepListingFailed(ILogger logger, Exception exception);

    [LoggerMessage(15, LogLevel.Warning, "Expiration sweep finished with failures: {Removed} removed, {RemovalFailures} could not be removed, listing failed: {ListingFailed}; the next sweep tries again")]
    public static partial void SweepHadFailures(ILogger logger, int removed, int removalFailures, bool listingFailed);

    // 20-29: request telemetry (Tus.Core/Diagnostics).
    private static readonly Func<ILogger, string, IDisposable?> UploadScopeFormatter = LoggerMessage.DefineScope<string>("Upload {UploadId}");

    /// <summary>A scope naming the upload a request is about, so every entry written while handling it carries the id.</summary>
    public static IDisposable? UploadScope(ILogger logger, string uploadId) => UploadScopeFormatter(logger, uploadId);

    [LoggerMessage(20, LogLevel.Debug, "{Method} {Path} answered {StatusCode} in {ElapsedMilliseconds} ms")]
    public static partial void RequestHandled(ILogger logger, string method, string path, int statusCode, double elapsedMilliseconds);

    // A client's own mistake is never an error of the server's: debug, for an operator who wants to see it.
    [LoggerMessage(21, LogLevel.Debug, "{Method} {Path} refused with {StatusCode} {Code}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, int statusCode, string code);

    // The store refused what the client asked for (a quota, say): the client's own limit, not a failure of the server's,
    // so no stack trace and no warning, but visible by default because an operator wants to know a quota is biting.
    [LoggerMessage(24, LogLevel.Information, "Store refused {Method} {Path}: {StatusCode} {Code} ({Detail})")]
    public static partial void StoreRefused(ILogger logger, string method, string path, int statusCode, string code, string detail);

    [LoggerMessage(22, LogLevel.Debug, "Write to {UploadId} started at offset {Offset}")]
    public static partial void WriteStarted(ILogger logger, string uploadId, long offset);

    [LoggerMessage(23, LogLevel.Debug, "Write to {UploadId} ended ({Reason}): {Bytes} bytes, offset now {Offset}")]
    public static partial void WriteEnded(ILogger logger, string uploadId, string reason, long bytes, long offset);
}
