using Microsoft.Extensions.Logging;

namespace Tus.Lockers.Consul.Internal;

/// <summary>The locker's log messages.</summary>
internal static partial class ConsulLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Consul session {SessionId} lost: {Reason}")]
    public static partial void SessionLost(ILogger logger, string sessionId, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Lock of upload {UploadId} (session {SessionId}) lost: {Reason}")]
    public static partial void LockLost(ILogger logger, string uploadId, string sessionId, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Renewing Consul session {SessionId} failed; retrying")]
    public static partial void RenewFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Watching the lock of upload {UploadId} failed; retrying")]
    public static partial void WatchFailed(ILogger logger, Exception exception, string uploadId);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Releasing the lock of upload {UploadId} (session {SessionId}) failed; it goes with the session")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string uploadId, string sessionId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "The lock of upload {UploadId} was no longer held by session {SessionId} when released: {Refusal}")]
    public static partial void ReleaseRefused(ILogger logger, string uploadId, string sessionId, string refusal);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Destroying Consul session {SessionId} failed; it expires after its TTL")]
    public static partial void DestroyFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "A callback of the lost signal of Consul session {SessionId} threw")]
    public static partial void SignalCallbackFailed(ILogger logger, Exception exception, string sessionId);
}
