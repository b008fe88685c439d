using Tus.Http;
using Tus.Protocol;

namespace Tus.Engine;

/// <summary>PATCH: append bytes at the client's offset, declaring a deferred length on the way.</summary>
internal static class PatchHandler
{
    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest request, TusResponse response, string uploadId)
    {
        if (!HeaderValues.IsMediaType(request.GetHeader("Content-Type"), TusHeaders.OffsetOctetStream))
        {
            return response.Fail(TusError.InvalidContentType);
        }

        if (!HeaderValues.TryParseLength(request.GetHeader(TusHeaders.UploadOffset)?.Trim(), out var offset))
        {
            return response.Fail(TusError.InvalidOffset);
        }

        long? declaredLength = null;
        if (request.GetHeader(TusHeaders.UploadLength) is { } lengthHeader)
        {
            if (!HeaderValues.TryParseLength(lengthHeader.Trim(), out var parsed))
            {
                return response.Fail(TusError.InvalidUploadLength);
            }

            declaredLength = parsed;
        }

        var (checksum, checksumError) = UploadWriter.ReadChecksumHeader(context, request);
        if (checksumError is not null)
        {
            return response.Fail(checksumError);
        }

        var (held, lockError) = await UploadAccess.LockAsync(context, request, uploadId).ConfigureAwait(false);
        if (held is null)
        {
            return response.Fail(lockError!);
        }

        await using (held.ConfigureAwait(false))
        {
            var (upload, error) = await UploadAccess.LoadAsync(context, uploadId, request.Aborted, held).ConfigureAwait(false);
            if (upload is null)
            {
                return response.Fail(error!);
            }

            if (upload.Concatenation is { IsFinal: true })
            {
                return response.Fail(TusError.ModifyFinal);
            }

            response.Upload = upload;
            if (request.RefuseAppend(upload) is { } refusal)
            {
                return response.Fail(refusal);
            }

            if (offset != upload.Offset)
            {
                return response.Fail(TusError.MismatchedOffset);
            }

            if (declaredLength is { } length && upload.Length != length)
            {
                if (!upload.IsLengthDeferred || context.Capabilities.DeferredLength is not { } deferred)
                {
                    return response.Fail(TusError.UploadLengthAlreadySet);
                }

                if (length < upload.Offset)
                {
                    return response.Fail(TusError.InvalidUploadLength);
                }

                if (length > context.Options.MaxSize)
                {
                    return response.Fail(TusError.MaxSizeExceeded);
                }

                using var call = context.StoreCall(request.Aborted, held.Lost);
                // The store returns the upload as it stores it; the lock's fencing token rides along to the calls that follow.
                upload = (await call.Await(deferred.SetLengthAsync(upload, length, call.Token)).ConfigureAwait(false)).FencedBy(held);
            }

            var wasComplete = upload.IsComplete;
            var outcome = await UploadWriter.WriteAsync(context, request, upload, held, checksum).ConfigureAwait(false);
            upload = await UploadWriter.CompleteAtBodyEndAsync(context, request, outcome, held).ConfigureAwait(false);

            // Checked again here, not only inside the write: a lease lost since then forbids the expiry update too.
            var lost = outcome.Error == TusError.LockLost || held.Lost.IsCancellationRequested;
            if (outcome.Written > 0 && !lost && !outcome.StoreFailed && !upload.IsComplete && context.Options.SlidingExpiration && context.ExpiryFrom(context.Now) is { } expiry)
            {
                using var call = context.StoreCall(clientGone: default, held.Lost);
                upload = await call.Await(context.Capabilities.Expiration!.SetExpiryAsync(upload, expiry, call.Token)).ConfigureAwait(false);
            }

            if (upload.IsComplete && !wasComplete && outcome.OffsetKnown)
            {
                await Notifications.CompletedAsync(context, request, upload).ConfigureAwait(false);
            }

            if (outcome.OffsetKnown)
            {
                response.SetOffset(upload.Offset);
            }

            response.Upload = upload;
            response.SetExpires(upload);
            var answer = outcome.Error ?? (lost ? TusError.LockLost : null);
            return answer is not null ? response.Fail(answer) : response.Succeed(204);
        }
    }
}
