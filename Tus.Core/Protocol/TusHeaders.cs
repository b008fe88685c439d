namespace Tus.Protocol;

/// <summary>The names of the headers the tus protocol defines, and its constant values.</summary>
public static class TusHeaders
{
    /// <summary>The protocol version this server speaks.</summary>
    public const string ProtocolVersion = "1.0.0";

    /// <summary>The media type of PATCH bodies.</summary>
    public const string OffsetOctetStream = "application/offset+octet-stream";

#pragma warning disable CS1591 // The names document themselves.
    public const string TusResumable = "Tus-Resumable";
    public const string TusVersion = "Tus-Version";
    public const string TusExtension = "Tus-Extension";
    public const string TusMaxSize = "Tus-Max-Size";
    public const string TusChecksumAlgorithm = "Tus-Checksum-Algorithm";
    public const string UploadOffset = "Upload-Offset";
    public const string UploadLength = "Upload-Length";
    public const string UploadDeferLength = "Upload-Defer-Length";
    public const string UploadMetadata = "Upload-Metadata";
    public const string UploadConcat = "Upload-Concat";
    public const string UploadExpires = "Upload-Expires";
    public const string UploadChecksum = "Upload-Checksum";
    public const string MethodOverride = "X-HTTP-Method-Override";
#pragma warning restore CS1591
}
