using Microsoft.Extensions.Logging;

namespace Tus.Stores.Internal;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Quota accounting rebuilt from the store's listing: {Uploads} uploads, {Unfinished} unfinished, {Bytes} bytes counted")]
    public static partial void Rebuilt(ILogger logger, long uploads, long unfinished, long bytes);

    [LoggerMessage(2, LogLevel.Information, "Quota refused {What} for upload {UploadId}: {Reason}")]
    public static partial void Refused(ILogger logger, string what, string uploadId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Quota reclaimed abandoned upload {UploadId}: unfinished at offset {Offset}, no write since {LastActivity:O}, {Bytes} bytes released")]
    public static partial void Reclaimed(ILogger logger, string uploadId, long offset, DateTimeOffset lastActivity, long bytes);

    [LoggerMessage(4, LogLevel.Warning, "Quota could not reclaim upload {UploadId}; it is left in place")]
    public static partial void ReclaimFailed(ILogger logger, Exception exception, string uploadId);

    [LoggerMessage(5, LogLevel.Warning, "Quota resync from the store's listing failed; the accounting is kept as it was and the next resync tries again")]
    public static partial void ResyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Quota could not read upload {UploadId} back after a failed write; it stays charged for every byte the store was handed")]
    public static partial void SettleLookupFailed(ILogger logger, Exception exception, string uploadId);
}
