using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>POST: creation, creation-defer-length, creation-with-upload and the creation of partial and final uploads.</summary>
internal static class PostHandler
{
    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest request, TusResponse response, string _)
    {
        var capabilities = context.Capabilities;
        var hasBody = HeaderValues.IsMediaType(request.GetHeader("Content-Type"), TusHeaders.OffsetOctetStream);

        // Without the concatenation extension the header means nothing here, as for a server that never heard of it.
        var (concatenation, concatError) = capabilities.Concatenation is not null
            ? Concatenation.Parse(request.GetHeader(TusHeaders.UploadConcat))
            : (null, null);
        if (concatError is not null)
        {
            return response.Fail(concatError);
        }

        long? length;
        List<UploadInfo>? partials = null;
        if (concatenation is { IsFinal: true })
        {
            if (hasBody)
            {
                return response.Fail(TusError.ModifyFinal);
            }

            if (request.GetHeader(TusHeaders.UploadLength) is not null || request.GetHeader(TusHeaders.UploadDeferLength) is not null)
            {
                return response.Fail(TusError.InvalidConcat);
            }

            if (!await context.Hooks.AuthorizePartialsAsync(request, response, concatenation.PartialIds).ConfigureAwait(false))
            {
                return response;
            }

            var (loaded, partialsError) = await Concatenation.LoadPartialsAsync(context, concatenation.PartialIds, requireComplete: !capabilities.ConcatenationUnfinished, request.Aborted).ConfigureAwait(false);
            if (loaded is null)
            {
                return response.Fail(partialsError!);
            }

            partials = loaded;
            length = Concatenation.TotalLength(partials);
        }
        else
        {
            var (declared, lengthError) = ReadLength(context, request);
            if (lengthError is not null)
            {
                return response.Fail(lengthError);
            }

            length = declared;
        }

        if (length > context.Options.MaxSize)
        {
            return response.Fail(TusError.MaxSizeExceeded);
        }

        if (!UploadMetadata.TryParse(request.GetHeader(TusHeaders.UploadMetadata), out var metadata))
        {
            return response.Fail(TusError.InvalidMetadata);
        }

        var (checksum, checksumError) = hasBody ? UploadWriter.ReadChecksumHeader(context, request) : (null, null);
        if (checksumError is not null)
        {
            return response.Fail(checksumError);
        }

        var now = context.Now;
        var newUpload = await context.Hooks.PreCreateAsync(request, response, new NewUpload
        {
            Id = UploadId.New(),
            Length = length,
            Metadata = request.StampMetadata(metadata),
            Concatenation = concatenation,
            CreatedAt = now,
            ExpiresAt = concatenation is { IsFinal: true } ? null : context.ExpiryFrom(now),
        }).ConfigureAwait(false);
        if (newUpload is null)
        {
            return response;
        }

        // Stamped again: a pre-create hook that replaced the metadata must not take an upload out of its protocol.
        newUpload = newUpload with { Metadata = request.StampMetadata(newUpload.Metadata) };

        UploadInfo upload;
        using (var call = context.StoreCall(request.Aborted))
        {
            upload = await call.Await(context.Store.CreateAsync(newUpload, call.Token)).ConfigureAwait(false);
        }

        // From here on the upload exists: every answer carries its URL so that the client can resume.
        var location = UploadUrls.Absolute(context, request, upload.Id);
        response.SetHeader("Location", location);
        response.Upload = upload;
        response.Succeed(201);
        await request.UploadCreatedAsync(upload, location).ConfigureAwait(false);
        await Notifications.CreatedAsync(context, request, upload).ConfigureAwait(false);

        if (concatenation is { IsFinal: true } || hasBody || upload.IsComplete)
        {
            upload = await CompleteCreationAsync(context, request, response, upload, hasBody, checksum).ConfigureAwait(false);
        }

        response.Upload = upload;
        response.SetExpires(upload);
        return response;
    }

    /// <summary>Runs what follows a creation under the new upload's lock: assembling a final upload, or writing the first bytes.</summary>
    private static async ValueTask<UploadInfo> CompleteCreationAsync(EngineContext context, TusRequest request, TusResponse response, UploadInfo upload, bool hasBody, Checksum? checksum)
    {
        var (held, lockError) = await UploadAccess.LockAsync(context, request, upload.Id).ConfigureAwait(false);
        if (held is null)
        {
            response.Fail(lockError!);
            return upload;
        }

        await using (held.ConfigureAwait(false))
        {
            if (upload.Concatenation is { IsFinal: true })
            {
                var (assembled, error) = await Concatenation.TryCompleteAsync(context, request, upload with { FencingToken = held.FencingToken }, held).ConfigureAwait(false);
                if (error is not null)
                {
                    response.Fail(error);
                }

                return assembled;
            }

            if (!hasBody)
            {
                // An upload of length zero is complete the moment it exists.
                await Notifications.CompletedAsync(context, request, upload).ConfigureAwait(false);
                return upload;
            }

            var outcome = await UploadWriter.WriteAsync(context, request, upload with { FencingToken = held.FencingToken }, held, checksum).ConfigureAwait(false);
            outcome = outcome with { Upload = await UploadWriter.CompleteAtBodyEndAsync(context, request, outcome, held).ConfigureAwait(false) };
            response.Upload = outcome.Upload;
            if (outcome.OffsetKnown)
            {
                response.SetOffset(outcome.Upload.Offset);
            }
            if (outcome.Error is { } writeError)
            {
                response.Fail(writeError);
            }

            if (outcome.Upload.IsComplete && outcome.OffsetKnown)
            {
                await Notifications.CompletedAsync(context, request, outcome.Upload).ConfigureAwait(false);
            }

            return outcome.Upload;
        }
    }

    private static (long? Length, TusError? Error) ReadLength(EngineContext context, TusRequest request)
    {
        var lengthHeader = request.GetHeader(TusHeaders.UploadLength);
        var deferHeader = context.Capabilities.DeferredLength is not null ? request.GetHeader(TusHeaders.UploadDeferLength) : null;
        if (lengthHeader is not null && deferHeader is not null)
        {
            return (null, TusError.AmbiguousUploadLength);
        }

        if (deferHeader is not null)
        {
            return deferHeader.Trim() == "1" ? (null, null) : (null, TusError.InvalidUploadDeferLength);
        }

        return HeaderValues.TryParseLength(lengthHeader?.Trim(), out var length) ? (length, null) : (null, TusError.InvalidUploadLength);
    }
}
