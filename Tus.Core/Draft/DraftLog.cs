using Microsoft.Extensions.Logging;

namespace Tus.Draft;

internal static partial class DraftLog
{
    [LoggerMessage(301, LogLevel.Debug, "The 104 interim response for upload {UploadId} could not be sent ({Reason})")]
    public static partial void InterimResponseFailed(ILogger logger, string uploadId, string reason);
}
