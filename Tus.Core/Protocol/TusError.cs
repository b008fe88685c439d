namespace Tus.Protocol;

/// <summary>
/// An expected protocol outcome that ends a request: a stable code (used in the response body, the logs and metrics),
/// the HTTP status it is answered with, and a message safe to show to a client.
/// </summary>
public sealed class TusError
{
    /// <summary>Creates an error. Prefer the predefined instances; hooks may create their own.</summary>
    /// <param name="code">A stable upper-case code, conventionally starting with <c>ERR_</c>.</param>
    /// <param name="statusCode">The HTTP status code.</param>
    /// <param name="message">A message for the client; it must not contain internal details.</param>
    public TusError(string code, int statusCode, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentNullException.ThrowIfNull(message);
        Code = code;
        StatusCode = statusCode;
        Message = message;
    }

    /// <summary>The stable error code.</summary>
    public string Code { get; }

    /// <summary>The HTTP status code.</summary>
    public int StatusCode { get; }

    /// <summary>The message sent to the client.</summary>
    public string Message { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Code} ({StatusCode}): {Message}";

    /// <summary>412: the Tus-Resumable header is missing or names a version this server does not speak.</summary>
    public static TusError UnsupportedVersion { get; } = new("ERR_UNSUPPORTED_VERSION", 412, "missing, invalid or unsupported Tus-Resumable header");

    /// <summary>413: the declared upload length is above Tus-Max-Size.</summary>
    public static TusError MaxSizeExceeded { get; } = new("ERR_MAX_SIZE_EXCEEDED", 413, "maximum size exceeded");

    /// <summary>415: a PATCH without Content-Type application/offset+octet-stream.</summary>
    public static TusError InvalidContentType { get; } = new("ERR_INVALID_CONTENT_TYPE", 415, "missing or invalid Content-Type header: expected application/offset+octet-stream");

    /// <summary>400: Upload-Length is missing or not a non-negative integer.</summary>
    public static TusError InvalidUploadLength { get; } = new("ERR_INVALID_UPLOAD_LENGTH", 400, "missing or invalid Upload-Length header");

    /// <summary>400: both Upload-Length and Upload-Defer-Length were sent.</summary>
    public static TusError AmbiguousUploadLength { get; } = new("ERR_AMBIGUOUS_UPLOAD_LENGTH", 400, "provided both Upload-Length and Upload-Defer-Length");

    /// <summary>400: Upload-Defer-Length is present with a value other than 1.</summary>
    public static TusError InvalidUploadDeferLength { get; } = new("ERR_INVALID_UPLOAD_LENGTH_DEFER", 400, "invalid Upload-Defer-Length header");

    /// <summary>400: Upload-Offset is missing or not a non-negative integer.</summary>
    public static TusError InvalidOffset { get; } = new("ERR_INVALID_OFFSET", 400, "missing or invalid Upload-Offset header");

    /// <summary>400: Upload-Metadata is malformed.</summary>
    public static TusError InvalidMetadata { get; } = new("ERR_INVALID_METADATA", 400, "invalid Upload-Metadata header");

    /// <summary>404: no upload at this URL.</summary>
    public static TusError UploadNotFound { get; } = new("ERR_UPLOAD_NOT_FOUND", 404, "upload not found");

    /// <summary>410: the upload expired before it was finished.</summary>
    public static TusError UploadExpired { get; } = new("ERR_UPLOAD_EXPIRED", 410, "upload has expired");

    /// <summary>409: Upload-Offset differs from the upload's offset.</summary>
    public static TusError MismatchedOffset { get; } = new("ERR_MISMATCHED_OFFSET", 409, "mismatched offset");

    /// <summary>413: the body is longer than the bytes the upload may still take.</summary>
    public static TusError UploadSizeExceeded { get; } = new("ERR_UPLOAD_SIZE_EXCEEDED", 413, "upload's size exceeded");

    /// <summary>423: another request held the upload for longer than the lock timeout.</summary>
    public static TusError LockTimeout { get; } = new("ERR_UPLOAD_LOCKED", 423, "upload is locked by another request; try again");

    /// <summary>400: a final upload was requested from a partial that is not complete (and concatenation-unfinished is off).</summary>
    public static TusError UploadNotFinished { get; } = new("ERR_UPLOAD_NOT_FINISHED", 400, "upload is not finished");

    /// <summary>400: Upload-Concat is malformed or names uploads that cannot be concatenated.</summary>
    public static TusError InvalidConcat { get; } = new("ERR_INVALID_CONCAT", 400, "invalid Upload-Concat header");

    /// <summary>403: a PATCH to a final upload.</summary>
    public static TusError ModifyFinal { get; } = new("ERR_MODIFY_FINAL", 403, "modifying a final upload is not allowed");

    /// <summary>400: the upload's length was known already and the request tried to change it.</summary>
    public static TusError UploadLengthAlreadySet { get; } = new("ERR_UPLOAD_LENGTH_ALREADY_SET", 400, "upload length is already set");

    /// <summary>400: Upload-Checksum is malformed.</summary>
    public static TusError InvalidChecksum { get; } = new("ERR_INVALID_CHECKSUM", 400, "invalid Upload-Checksum header");

    /// <summary>400: Upload-Checksum names an algorithm this server does not support.</summary>
    public static TusError UnsupportedChecksumAlgorithm { get; } = new("ERR_UNSUPPORTED_CHECKSUM_ALGORITHM", 400, "unsupported checksum algorithm");

    /// <summary>460: the body does not match its checksum; its bytes were discarded.</summary>
    public static TusError ChecksumMismatch { get; } = new("ERR_CHECKSUM_MISMATCH", 460, "checksum mismatch");

    /// <summary>400: the upload was interrupted because another request asked for it.</summary>
    public static TusError UploadInterrupted { get; } = new("ERR_UPLOAD_INTERRUPTED", 400, "upload has been interrupted by another request for this upload resource");

    /// <summary>500: the client sent nothing for longer than the read timeout; what it sent is kept.</summary>
    /// <remarks>5xx so that clients retry, as they do for other network failures.</remarks>
    public static TusError ReadTimeout { get; } = new("ERR_READ_TIMEOUT", 500, "timeout while reading request body");

    /// <summary>500: the connection broke off while the body was read; what arrived is kept.</summary>
    public static TusError ConnectionReset { get; } = new("ERR_CONNECTION_RESET", 500, "connection reset while reading request body");

    /// <summary>503: the server is shutting down; what arrived is kept.</summary>
    public static TusError ServerShutdown { get; } = new("ERR_SERVER_SHUTDOWN", 503, "request has been interrupted because the server is shutting down");

    /// <summary>403: the request's Origin is not allowed by the CORS settings.</summary>
    public static TusError OriginNotAllowed { get; } = new("ERR_ORIGIN_NOT_ALLOWED", 403, "request origin is not allowed");

    /// <summary>405: the method is not supported at this URL, or its extension is disabled.</summary>
    public static TusError MethodNotAllowed { get; } = new("ERR_METHOD_NOT_ALLOWED", 405, "method not allowed");

    /// <summary>400: the request was rejected by a hook.</summary>
    public static TusError UploadRejected { get; } = new("ERR_UPLOAD_REJECTED", 400, "upload has been rejected by the server");

    /// <summary>403: an authorize hook refused the request on this upload.</summary>
    public static TusError AccessDenied { get; } = new("ERR_ACCESS_DENIED", 403, "access to this upload is denied");

    /// <summary>400: a pre-terminate hook refused to let the upload be deleted.</summary>
    public static TusError TerminationRejected { get; } = new("ERR_UPLOAD_TERMINATION_REJECTED", 400, "upload termination has been rejected by the server");

    /// <summary>400: a post-receive hook stopped the upload; the bytes received so far are kept.</summary>
    public static TusError UploadStopped { get; } = new("ERR_UPLOAD_STOPPED", 400, "upload has been stopped by the server");

    /// <summary>500: a hook the server runs before answering failed or timed out (the default of
    /// <see cref="Hooks.TusHookOptions.FailureError"/>); details are logged, never sent.</summary>
    public static TusError HookFailed { get; } = new("ERR_HOOK_FAILED", 500, "a server hook failed; try again later");

    /// <summary>409: the id chosen for a new upload is taken.</summary>
    public static TusError UploadAlreadyExists { get; } = new("ERR_UPLOAD_ALREADY_EXISTS", 409, "an upload with that id exists already");

    /// <summary>416: the Range header of a download cannot be satisfied.</summary>
    public static TusError RangeNotSatisfiable { get; } = new("ERR_RANGE_NOT_SATISFIABLE", 416, "requested range not satisfiable");

    /// <summary>507: the store has no room left.</summary>
    public static TusError StorageFull { get; } = new("ERR_STORAGE_FULL", 507, "insufficient storage");

    /// <summary>503: the storage backend is unavailable.</summary>
    public static TusError StoreUnavailable { get; } = new("ERR_STORE_UNAVAILABLE", 503, "storage is temporarily unavailable");

    /// <summary>
    /// 503: the lease on the upload's lock was lost while the request held it (a distributed locker could not renew it),
    /// so the request stopped at once; what was stored before is kept. 503 because tus-js-client, and Uppy through it,
    /// retry every status outside 4xx (and 409 and 423): the client asks for the offset again and resumes.
    /// </summary>
    public static TusError LockLost { get; } = new("ERR_LOCK_LOST", 503, "the lock on this upload was lost; try again");

    /// <summary>
    /// 503: the lock service (a distributed locker's backend) cannot be reached, so the upload could not be locked;
    /// nothing was changed and the client retries. Lockers throw a <see cref="Stores.TusStoreException"/> with this error.
    /// </summary>
    public static TusError LockerUnavailable { get; } = new("ERR_LOCKER_UNAVAILABLE", 503, "the lock service is temporarily unavailable; try again");

    /// <summary>503: a storage call did not finish within the store-call timeout; what was stored is kept.</summary>
    public static TusError StoreTimeout { get; } = new("ERR_STORE_TIMEOUT", 503, "storage did not answer in time; try again");

    /// <summary>
    /// 413: an operator's quota refuses the bytes. A 4xx other than 409 and 423, so tus-js-client and Uppy report it as
    /// an error instead of retrying an upload that cannot succeed.
    /// </summary>
    public static TusError QuotaExceeded { get; } = new("ERR_QUOTA_EXCEEDED", 413, "storage quota exceeded");

    /// <summary>500: anything unexpected; details are logged, never sent.</summary>
    public static TusError InternalServerError { get; } = new("ERR_INTERNAL_SERVER_ERROR", 500, "internal server error");

    /// <summary>Every predefined error, for documentation and tests.</summary>
    public static IReadOnlyList<TusError> All { get; } =
    [
        UnsupportedVersion, MaxSizeExceeded, InvalidContentType, InvalidUploadLength, AmbiguousUploadLength,
        InvalidUploadDeferLength, InvalidOffset, InvalidMetadata, UploadNotFound, UploadExpired, MismatchedOffset,
        UploadSizeExceeded, LockTimeout, UploadNotFinished, InvalidConcat, ModifyFinal, UploadLengthAlreadySet,
        InvalidChecksum, UnsupportedChecksumAlgorithm, ChecksumMismatch, UploadInterrupted, ReadTimeout,
        ConnectionReset, ServerShutdown, OriginNotAllowed, MethodNotAllowed, UploadRejected, AccessDenied, TerminationRejected, UploadStopped, HookFailed, UploadAlreadyExists,
        RangeNotSatisfiable, StorageFull, StoreUnavailable, LockLost, LockerUnavailable, StoreTimeout, QuotaExceeded, InternalServerError,
    ];
}
