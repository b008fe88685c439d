using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Logging;
using Tus.Engine;
using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Draft;

/// <summary>
/// A draft request as the shared upload operations read it: the draft's headers in, translated to the ones the
/// operations understand (<c>Upload-Length</c>, <c>Upload-Defer-Length</c>, <c>Upload-Offset</c>, the body's media
/// type, the metadata), and everything else passed through unchanged. Hooks see this view, and through
/// <see cref="EnumerateHeaders"/> the headers as sent.
/// </summary>
internal sealed class DraftRequest : TusRequest
{
    private readonly TusRequest _inner;
    private readonly EngineContext _context;
    private readonly string _method;
    private readonly string? _contentType;
    private readonly string? _length;
    private readonly string? _offset;
    private readonly string? _metadata;
    private readonly bool _deferLength;

    public DraftRequest(EngineContext context, TusRequest inner, int version)
    {
        _context = context;
        _inner = inner;
        Version = version;
        _method = inner.Method.ToUpperInvariant();
        Complete = DraftHeaders.UsesIncomplete(version)
            ? !DraftHeaders.ParseBoolean(inner.GetHeader(DraftHeaders.UploadIncomplete))
            : DraftHeaders.ParseBoolean(inner.GetHeader(DraftHeaders.UploadComplete));
        // Without a Content-Length the body's end tells (a chunked HTTP/1.1 body, an HTTP/2 stream; empty otherwise).
        HasBody = inner.ContentLength is not 0;
        var declaredLength = DraftHeaders.ParseNonNegativeInteger(inner.GetHeader(TusHeaders.UploadLength));

        switch (_method)
        {
            case "POST":
                _contentType = HasBody ? TusHeaders.OffsetOctetStream : null;
                Length = ResolveLength(start: 0, declaredLength);
                _deferLength = Length is null && Problem is null;
                CompletesAtBodyEnd = Complete == true && Length is null;
                _metadata = CreationMetadata(inner, version).ToString();
                break;
            case "PATCH":
                var requireMediaType = DraftHeaders.HasLimitsAndProblems(version);
                _contentType = !requireMediaType || HeaderValues.IsMediaType(inner.GetHeader("Content-Type"), DraftHeaders.PartialUpload)
                    ? TusHeaders.OffsetOctetStream
                    : null;
                var offset = DraftHeaders.ParseNonNegativeInteger(inner.GetHeader(TusHeaders.UploadOffset));
                _offset = offset?.ToString(CultureInfo.InvariantCulture);
                Length = offset is { } start ? ResolveLength(start, declaredLength) : declaredLength;
                CompletesAtBodyEnd = Complete == true && Length is null;
                if (requireMediaType && _contentType is null && Problem is null)
                {
                    Problem = DraftErrors.InvalidPartialUploadContentType;
                }

                break;
        }

        _length = Length?.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The interop version the client speaks.</summary>
    public int Version { get; }

    /// <summary>Whether the request completes the upload; <see langword="null"/> when the header is missing or invalid.</summary>
    public bool? Complete { get; }

    /// <summary>Whether the request may carry content: a positive Content-Length, or none declared.</summary>
    public bool HasBody { get; }

    /// <summary>The upload's length as this request determines it, or <see langword="null"/> when it does not.</summary>
    public long? Length { get; }

    /// <summary>Why the request cannot be served, found before any operation runs; <see langword="null"/> when it can.</summary>
    public TusError? Problem { get; private set; }

    /// <summary>The offset the client sent, for the mismatching-offset problem.</summary>
    public long? ProvidedOffset => _offset is null ? null : long.Parse(_offset, CultureInfo.InvariantCulture);

    public TusRequest Inner => _inner;

    public override string Method => _inner.Method;

    public override string ResourcePath => _inner.ResourcePath;

    public override string Scheme => _inner.Scheme;

    public override string Host => _inner.Host;

    public override string EndpointPath => _inner.EndpointPath;

    public override IPEndPoint? RemoteEndPoint => _inner.RemoteEndPoint;

    public override long? ContentLength => _inner.ContentLength;

    public override PipeReader Body => _inner.Body;

    public override CancellationToken Aborted => _inner.Aborted;

    public override ClaimsPrincipal? User => _inner.User;

    public override IServiceProvider? Services => _inner.Services;

    internal override bool CompletesAtBodyEnd { get; }

    internal override long? AppendLimit => _context.Options.IetfDraft.MaxAppendSize;

    public override string? GetHeader(string name)
    {
        // The operations read tus 1.0 header names; each is answered from the draft's headers, and the tus-only ones a
        // draft client has no business sending (concatenation, checksums, method override) are not seen.
        if (Is(name, TusHeaders.TusResumable))
        {
            return TusHeaders.ProtocolVersion;
        }

        if (Is(name, "Content-Type"))
        {
            return _method is "POST" or "PATCH" ? _contentType : _inner.GetHeader(name);
        }

        if (Is(name, TusHeaders.UploadLength))
        {
            return _length;
        }

        if (Is(name, TusHeaders.UploadDeferLength))
        {
            return _deferLength ? "1" : null;
        }

        if (Is(name, TusHeaders.UploadOffset))
        {
            return _offset;
        }

        if (Is(name, TusHeaders.UploadMetadata))
        {
            return _metadata;
        }

        if (Is(name, TusHeaders.UploadConcat) || Is(name, TusHeaders.UploadChecksum) || Is(name, "Trailer") || Is(name, TusHeaders.MethodOverride))
        {
            return null;
        }

        return _inner.GetHeader(name);
    }

    public override IEnumerable<KeyValuePair<string, string>> EnumerateHeaders() => _inner.EnumerateHeaders();

    public override string? GetTrailer(string name) => _inner.GetTrailer(name);

    public override ValueTask<bool> SendInterimResponseAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken) =>
        _inner.SendInterimResponseAsync(statusCode, headers, cancellationToken);

    internal override TusError? RefuseAppend(UploadInfo upload)
    {
        if (!DraftDialect.IsDraftUpload(upload))
        {
            return DraftErrors.ProtocolMismatch;
        }

        // Once complete, nothing more may be appended, not even nothing: the client learns it is done.
        return upload.IsComplete ? DraftErrors.CompletedUpload : null;
    }

    // Stamped again after the hooks ran, so that one replacing the metadata cannot leave a draft upload unmarked.
    internal override UploadMetadata StampMetadata(UploadMetadata metadata) =>
        metadata.GetString(DraftDialect.MetadataKey) == Version.ToString(CultureInfo.InvariantCulture)
            ? metadata
            : metadata.With(DraftDialect.MetadataKey, Encoding.ASCII.GetBytes(Version.ToString(CultureInfo.InvariantCulture)));

    internal override async ValueTask UploadCreatedAsync(UploadInfo upload, string location)
    {
        // 104 (Upload Resumption Supported) tells the client where to resume before the body is sent or read.
        var headers = new List<KeyValuePair<string, string>>
        {
            new("Location", location),
            new(DraftHeaders.InteropVersion, Version.ToString(CultureInfo.InvariantCulture)),
        };
        if (DraftHeaders.HasLimitsAndProblems(Version))
        {
            headers.Add(new(DraftHeaders.UploadLimit, DraftDialect.Limits(_context, Version, upload)));
        }

        try
        {
            await _inner.SendInterimResponseAsync(104, headers, _inner.Aborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The connection is going away; reading the body will find that out and keep what arrived.
            DraftLog.InterimResponseFailed(_context.Logger, upload.Id, exception.GetType().Name);
        }
    }

    private long? ResolveLength(long start, long? declaredLength)
    {
        // A request that completes the upload tells its length: where it starts plus what it carries.
        long? fromContent = null;
        if (Complete == true)
        {
            if (_inner.ContentLength is { } contentLength)
            {
                fromContent = start + contentLength;
            }
        }

        if (declaredLength is { } declared && fromContent is { } implied && declared != implied)
        {
            Problem = DraftErrors.InconsistentLength;
            return null;
        }

        if (declaredLength is { } length && _inner.ContentLength is { } carried && start + carried > length)
        {
            Problem = DraftErrors.InconsistentLength;
            return null;
        }

        return declaredLength ?? fromContent;
    }

    private static UploadMetadata CreationMetadata(TusRequest request, int version)
    {
        var entries = new List<KeyValuePair<string, string>>
        {
            new(DraftDialect.MetadataKey, version.ToString(CultureInfo.InvariantCulture)),
        };

        // The representation's media type and file name travel in the creation request's own headers.
        if (request.GetHeader("Content-Type") is { Length: > 0 } contentType)
        {
            entries.Add(new("filetype", contentType.Trim()));
        }

        if (ContentDisposition.FileName(request.GetHeader("Content-Disposition")) is { Length: > 0 } fileName)
        {
            entries.Add(new("filename", fileName));
        }

        return UploadMetadata.FromStrings(entries);
    }

    private static bool Is(string name, string header) => string.Equals(name, header, StringComparison.OrdinalIgnoreCase);
}
