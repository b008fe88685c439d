using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tus.Engine;
using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Draft;

/// <summary>
/// The IETF resumable-upload draft as a dialect of the engine: a request that carries a supported
/// <c>Upload-Draft-Interop-Version</c> is read through <see cref="DraftRequest"/> (headers in), served by the same
/// upload operations, locks, hooks and limits as tus 1.0, and answered in the draft's headers and RFC 9457 problem
/// bodies (headers out). Neither dialect's headers reach the other's clients.
/// </summary>
internal static class DraftDialect
{
    /// <summary>
    /// The metadata key that records, at creation, that an upload belongs to the draft (its value is the interop
    /// version). Appends in the other protocol are refused, so neither can leave an upload in a state the other misreads.
    /// </summary>
    public const string MetadataKey = "ietf-draft-interop-version";

    private static readonly string[] TusOnlyHeaders =
    [
        TusHeaders.TusResumable, TusHeaders.TusVersion, TusHeaders.TusExtension, TusHeaders.TusMaxSize,
        TusHeaders.TusChecksumAlgorithm, TusHeaders.UploadDeferLength, TusHeaders.UploadMetadata, TusHeaders.UploadConcat,
        TusHeaders.UploadExpires, TusHeaders.UploadLength,
    ];

    /// <summary>The draft request, when the request speaks an interop version this engine serves; otherwise <see langword="null"/>.</summary>
    public static int? TryRead(TusRequest request) =>
        request.GetHeader(DraftHeaders.InteropVersion) is { } header
        && DraftHeaders.ParseNonNegativeInteger(header) is { } version
        && version is >= DraftHeaders.OldestVersion and <= DraftHeaders.NewestVersion
            ? (int)version
            : null;

    /// <summary>A tus client cannot claim an upload for the draft by sending the key itself.</summary>
    public static UploadMetadata UnmarkTusMetadata(UploadMetadata metadata) =>
        metadata.ContainsKey(MetadataKey) ? metadata.Without(MetadataKey) : metadata;

    public static bool IsDraftUpload(UploadInfo upload) => upload.Metadata.ContainsKey(MetadataKey);

    /// <summary>A tus 1.0 append to a draft upload is refused: its completion is the draft client's to declare.</summary>
    public static TusError? RefuseTusAppend(UploadInfo upload) => IsDraftUpload(upload) ? DraftErrors.ProtocolMismatch : null;

    /// <summary>Serves a request in the dialect it speaks: the draft when it names an interop version served here, tus 1.0 otherwise.</summary>
    public static ValueTask<TusResponse> DispatchAsync(EngineContext context, TusRequest request) =>
        context.Options.IetfDraft.Enabled && TryRead(request) is { } version
            ? HandleAsync(context, request, version)
            : RequestDispatcher.HandleAsync(context, request);

    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest inner, int version)
    {
        var request = new DraftRequest(context, inner, version);
        var method = request.Method.ToUpperInvariant();
        var problem = request.Problem ?? Validate(context, request, method);
        TusResponse response;
        if (problem is not null)
        {
            response = Responses.Status(204);
            response.Fail(context.Cors.Apply(inner, method, response) ? problem : TusError.OriginNotAllowed, withBody: method != "HEAD");
        }
        else
        {
            response = await RequestDispatcher.HandleAsync(context, request).ConfigureAwait(false);
        }

        Answer(context, request, method, response);
        return response;
    }

    /// <summary>The request-level rules of the draft, checked before any upload is touched.</summary>
    private static TusError? Validate(EngineContext context, DraftRequest request, string method)
    {
        if (method is not ("POST" or "PATCH"))
        {
            return null;
        }

        if (request.Complete is null)
        {
            return DraftErrors.InvalidUploadComplete;
        }

        var draft = context.Options.IetfDraft;
        if (request.ContentLength is { } carried)
        {
            if (carried > draft.MaxAppendSize)
            {
                return DraftErrors.AppendTooLarge;
            }

            // A request without content only creates the upload (to learn its URL first) or completes it: never too small.
            if (carried > 0 && carried < draft.MinAppendSize && request.Complete != true)
            {
                return DraftErrors.AppendTooSmall;
            }
        }

        if (method == "POST")
        {
            if (request.Length is null && context.Capabilities.DeferredLength is null)
            {
                return DraftErrors.LengthRequired;
            }

            if (request.Length < draft.MinSize)
            {
                return DraftErrors.UploadTooSmall;
            }
        }

        return null;
    }

    /// <summary>Rewrites the operations' answer in the draft's terms: its headers, its status codes, its problem bodies.</summary>
    private static void Answer(EngineContext context, DraftRequest request, string method, TusResponse response)
    {
        foreach (var header in TusOnlyHeaders)
        {
            response.RemoveHeader(header);
        }

        var version = request.Version;
        var upload = response.Upload;
        var withLimits = DraftHeaders.HasLimitsAndProblems(version);
        if (response.Error is null && method is "POST" or "PATCH" && request.Complete == true && upload is { IsComplete: false })
        {
            // The client said this request ends the upload, yet its body stopped short of the length declared before:
            // the bytes are kept, and the client learns that its lengths disagree.
            response.Fail(DraftErrors.InconsistentLength);
        }

        if (response.Error is null)
        {
            switch (method)
            {
                case "OPTIONS":
                    response.SetHeader("Accept-Patch", DraftHeaders.PartialUpload);
                    if (withLimits)
                    {
                        response.SetHeader(DraftHeaders.UploadLimit, Limits(context, version, upload: null));
                    }

                    break;
                case "HEAD":
                    // The draft answers offset retrieval with 204, like its examples; the state is in the headers.
                    response.StatusCode = 204;
                    Describe(context, request, response, upload, withLength: true, withLimits);
                    break;
                case "POST":
                case "PATCH":
                    Describe(context, request, response, upload, withLength: false, withLimits && method == "POST");
                    break;
            }

            return;
        }

        var error = response.Error;
        if (upload is not null && method == "PATCH")
        {
            // Every failed append says where the upload really stands, so the client can resume from there.
            response.SetOffset(upload.Offset);
        }

        if (error.StatusCode == 413 && withLimits)
        {
            response.SetHeader(DraftHeaders.UploadLimit, Limits(context, version, upload));
        }

        if (withLimits && method != "HEAD" && IsEngineErrorBody(response, error))
        {
            WriteProblem(request, response, error, upload);
        }
    }

    private static void Describe(EngineContext context, DraftRequest request, TusResponse response, UploadInfo? upload, bool withLength, bool withLimits)
    {
        if (upload is null)
        {
            return;
        }

        response.SetOffset(upload.Offset);
        if (DraftHeaders.UsesIncomplete(request.Version))
        {
            response.SetHeader(DraftHeaders.UploadIncomplete, DraftHeaders.FormatBoolean(!upload.IsComplete));
        }
        else
        {
            response.SetHeader(DraftHeaders.UploadComplete, DraftHeaders.FormatBoolean(upload.IsComplete));
        }

        if (withLength && upload.Length is { } length)
        {
            response.SetHeader(TusHeaders.UploadLength, length.ToString(CultureInfo.InvariantCulture));
        }

        if (withLimits)
        {
            response.SetHeader(DraftHeaders.UploadLimit, Limits(context, request.Version, upload));
        }
    }

    /// <summary>The <c>Upload-Limit</c> dictionary: the server's limits, and for an upload, the lifetime it has left.</summary>
    public static string Limits(EngineContext context, int version, UploadInfo? upload)
    {
        var draft = context.Options.IetfDraft;
        var parts = new List<string>(5);
        Add(parts, "max-size", context.Options.MaxSize);
        Add(parts, "min-size", draft.MinSize);
        Add(parts, "max-append-size", draft.MaxAppendSize);
        Add(parts, "min-append-size", draft.MinAppendSize);
        long? age = null;
        if (upload is { IsComplete: false, ExpiresAt: { } expires })
        {
            age = Math.Max(0, (long)Math.Floor((expires - context.Now).TotalSeconds));
        }
        else if (upload is null && context.Capabilities.Expiration is not null && context.Options.Expiration is { } lifetime)
        {
            age = (long)lifetime.TotalSeconds;
        }

        Add(parts, DraftHeaders.AgeLimitKey(version), age);

        // An empty dictionary is not a valid field value; min-size=0 says "no limits" without inventing one.
        return parts.Count == 0 ? "min-size=0" : string.Join(", ", parts);

        static void Add(List<string> parts, string key, long? value)
        {
            if (value is { } v)
            {
                parts.Add(key + "=" + v.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>Whether the body is the engine's own text for the error (a hook's own body is passed on as it chose it).</summary>
    private static bool IsEngineErrorBody(TusResponse response, TusError error) =>
        !response.Body.IsEmpty && response.Body.Span.SequenceEqual(Encoding.UTF8.GetBytes(error.Code + ": " + error.Message + "\n"));

    /// <summary>An RFC 9457 problem body: the draft's problem types where one applies, <c>about:blank</c> otherwise; always with the stable code.</summary>
    private static void WriteProblem(DraftRequest request, TusResponse response, TusError error, UploadInfo? upload)
    {
        string type = "about:blank";
        var title = error.Message;
        if (error == TusError.MismatchedOffset)
        {
            type = DraftErrors.MismatchingOffsetType;
            title = "offset from request does not match offset of resource";
        }
        else if (error == DraftErrors.CompletedUpload)
        {
            type = DraftErrors.CompletedUploadType;
        }
        else if (error == DraftErrors.InconsistentLength || error == TusError.UploadLengthAlreadySet
            || (error == TusError.UploadSizeExceeded && request.Method.Equals("PATCH", StringComparison.OrdinalIgnoreCase) && request.AppendLimit is null))
        {
            type = DraftErrors.InconsistentLengthType;
            title = DraftErrors.InconsistentLength.Message;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteString("title", title);
            json.WriteNumber("status", error.StatusCode);
            json.WriteString("code", error.Code);
            if (type == DraftErrors.MismatchingOffsetType && upload is not null)
            {
                json.WriteNumber("expected-offset", upload.Offset);
                if (request.ProvidedOffset is { } provided)
                {
                    json.WriteNumber("provided-offset", provided);
                }
            }

            json.WriteEndObject();
        }

        response.Body = buffer.WrittenMemory.ToArray();
        response.ContentLength = response.Body.Length;
        response.SetHeader("Content-Type", "application/problem+json");
    }
}
