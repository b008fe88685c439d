using Tus.Protocol;

namespace Tus.Draft;

/// <summary>The outcomes only the draft has; each keeps a stable code like every other error.</summary>
internal static class DraftErrors
{
    public const string MismatchingOffsetType = "https://iana.org/assignments/http-problem-types#mismatching-upload-offset";
    public const string CompletedUploadType = "https://iana.org/assignments/http-problem-types#completed-upload";
    public const string InconsistentLengthType = "https://iana.org/assignments/http-problem-types#inconsistent-upload-length";

    public static TusError InvalidUploadComplete { get; } = new("ERR_INVALID_UPLOAD_COMPLETE", 400, "missing or invalid Upload-Complete header");

    public static TusError InconsistentLength { get; } = new("ERR_INCONSISTENT_UPLOAD_LENGTH", 400, "inconsistent length values for upload");

    public static TusError CompletedUpload { get; } = new("ERR_UPLOAD_COMPLETED", 400, "upload is already completed");

    /// <summary>
    /// An append in one protocol to an upload created in the other. 400 rather than 409: tus clients retry 409, and
    /// retrying cannot help.
    /// </summary>
    public static TusError ProtocolMismatch { get; } = new("ERR_PROTOCOL_MISMATCH", 400, "upload was created with the other protocol (tus 1.0 or the IETF resumable-upload draft) and can only be continued with it");

    public static TusError LengthRequired { get; } = new("ERR_UPLOAD_LENGTH_REQUIRED", 400, "this server needs the upload's length at creation: send Upload-Length, or Upload-Complete: ?1 with Content-Length");

    public static TusError UploadTooSmall { get; } = new("ERR_UPLOAD_TOO_SMALL", 400, "upload length is below min-size");

    public static TusError AppendTooLarge { get; } = new("ERR_APPEND_TOO_LARGE", 413, "request content exceeds max-append-size");

    public static TusError AppendTooSmall { get; } = new("ERR_APPEND_TOO_SMALL", 400, "request content is below min-append-size and does not complete the upload");

    public static TusError InvalidPartialUploadContentType { get; } = new("ERR_INVALID_CONTENT_TYPE", 415, "missing or invalid Content-Type header: expected application/partial-upload");

    /// <summary>Every draft-only error, for documentation and tests.</summary>
    public static IReadOnlyList<TusError> All { get; } =
    [
        InvalidUploadComplete, InconsistentLength, CompletedUpload, ProtocolMismatch, LengthRequired, UploadTooSmall,
        AppendTooLarge, AppendTooSmall,
    ];
}
