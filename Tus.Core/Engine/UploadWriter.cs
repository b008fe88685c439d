using Microsoft.Extensions.Logging;
using Tus.Http;
using Tus.Locking;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>The outcome of streaming one request body into an upload.</summary>
/// <param name="Upload">The upload as it stands after the write.</param>
/// <param name="Written">How many bytes the write added.</param>
/// <param name="Error">What to answer, or <see langword="null"/> for success.</param>
/// <param name="OffsetKnown"><see langword="false"/> when the store failed and could not be asked for its offset either.</param>
/// <param name="StoreFailed"><see langword="true"/> when the append itself failed or was abandoned: no further call that
/// changes the upload is made in this request (a store that just timed out would only time out again).</param>
internal readonly record struct WriteOutcome(UploadInfo Upload, long Written, TusError? Error, bool OffsetKnown = true, bool StoreFailed = false);

/// <summary>
/// Streams a request body into an upload: the one write path shared by PATCH and creation-with-upload. It caps the body
/// at what the upload may take, verifies checksums (discarding the bytes of a request that fails its checksum), and
/// turns every way a body can stop into a response while the store keeps what arrived.
/// </summary>
/// <remarks>
/// Checksums are verified by the body stream itself, as the body ends (<see cref="BodyChecksum"/>): the engine never
/// reads an unfinished upload back. A body that fails makes the store's last read throw
/// <see cref="ChecksumMismatchException"/>, so a store can avoid committing its bytes; whatever the store kept of them
/// anyway is taken back with <see cref="ITusChecksumStore.DiscardFromAsync"/>.
/// </remarks>
internal static class UploadWriter
{
    /// <summary>Whether the client will send its checksum as a trailer (the checksum-trailer extension).</summary>
    public static bool AnnouncesChecksumTrailer(TusRequest request)
    {
        var trailer = request.GetHeader("Trailer");
        if (trailer is null)
        {
            return false;
        }

        foreach (var name in trailer.Split(','))
        {
            if (name.Trim().Equals(TusHeaders.UploadChecksum, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads the Upload-Checksum header, when the checksum extension is on.</summary>
    public static (Checksum? Checksum, TusError? Error) ReadChecksumHeader(EngineContext context, TusRequest request)
    {
        if (context.Capabilities.Checksum is null || request.GetHeader(TusHeaders.UploadChecksum) is not { } header)
        {
            return (null, null);
        }

        return Checksum.Parse(header);
    }

    public static async ValueTask<WriteOutcome> WriteAsync(EngineContext context, TusRequest request, UploadInfo upload, ITusLock held, Checksum? checksum)
    {
        var startOffset = upload.Offset;
        var sizeError = upload.IsLengthDeferred ? TusError.MaxSizeExceeded : TusError.UploadSizeExceeded;
        var allowed = upload.Remaining ?? (context.Options.MaxSize is { } max ? Math.Max(0, max - upload.Offset) : long.MaxValue);
        if (request.AppendLimit is { } appendLimit && appendLimit < allowed)
        {
            allowed = appendLimit;
            sizeError = TusError.UploadSizeExceeded;
        }

        if (request.ContentLength is { } declared && declared > allowed)
        {
            return new WriteOutcome(upload, 0, sizeError);
        }

        Log.WriteStarted(context.Logger, upload.Id, startOffset);
        using var verification = checksum is not null ? BodyChecksum.FromHeader(checksum)
            : context.Capabilities.Checksum is not null && AnnouncesChecksumTrailer(request) ? BodyChecksum.FromTrailer(request)
            : null;
        long written;
        BodyEnd end;
        TusError? checksumFailure;
        UploadInfo? kept = null;
        // Post-receive hooks hear of the progress, and may stop the body as a release request would.
        using var progress = context.Hooks.TrackProgress(request, upload, held.ReleaseRequested);

        // The client going away ends the body, not the store call: what arrived is still persisted.
        using (var call = new StoreCall(context, context.Options.StoreCallTimeout, clientGone: default, held.Lost, sliding: true))
        using (var body = new RequestBodyStream(
            request.Body, allowed, verification, context.Options.ReadTimeout, context.Time,
            request.Aborted, progress?.Interruption ?? held.ReleaseRequested, held.Lost, context.ServerStopping, call) { ClientFinishedSending = request.ClientFinishedSending })
        {
            progress?.Start(body);
            try
            {
                written = await context.Store.AppendAsync(upload, body, call.Token).ConfigureAwait(false);
                await body.ProbeEndAsync().ConfigureAwait(false);
                end = body.End;
                checksumFailure = body.ChecksumFailure;
            }
#pragma warning disable CA1031 // The body's own refusal, whatever the store wrapped it in: answered as a failed checksum.
            catch (Exception exception) when (body.ChecksumFailure is not null && IsChecksumMismatch(exception))
#pragma warning restore CA1031
            {
                // The store let the body's refusal through, as it should. Whether it kept some of those bytes regardless
                // is not guessed: a lookup tells, and they are discarded below like those of a store that returned.
                end = body.End;
                checksumFailure = body.ChecksumFailure;
                kept = await UploadAccess.RereadAfterFailureAsync(context, upload.Id).ConfigureAwait(false);
                if (kept is null)
                {
                    var error = held.Lost.IsCancellationRequested ? TusError.LockLost
                        : end == BodyEnd.Completed ? checksumFailure : ErrorFor(end, sizeError);
                    return new WriteOutcome(upload, 0, error, OffsetKnown: false, StoreFailed: true);
                }

                written = kept.Offset - startOffset;
            }
#pragma warning disable CA1031 // Every failure of the append is answered the same way: with the offset the store kept.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                // The client going away does not cancel this call, so a cancellation is either ours (Reason() says which)
                // or the store's own (an SDK's timeout): a failure like any other, not a reason to skip the re-read.
                return await AfterFailedAppendAsync(context, request, upload, held, exception, call.Reason(), body.BytesRead).ConfigureAwait(false);
            }
            finally
            {
                Diagnostics.TusMetrics.BytesReceived.Add(body.BytesRead);
            }
        }

        var updated = kept?.FencedBy(held) ?? upload with { Offset = startOffset + written };
        Log.WriteEnded(context.Logger, upload.Id, end.ToString(), written, updated.Offset);
        var stopped = progress?.Finish(request, updated, interrupted: end == BodyEnd.Interrupted) == true;
        if (held.Lost.IsCancellationRequested)
        {
            // Someone else may hold the upload now: not one more call that changes it (no discard, no expiry).
            Log.LeaseLost(context.Logger, upload.Id);
            return new WriteOutcome(updated, written, TusError.LockLost);
        }

        if (end != BodyEnd.Completed)
        {
            Log.WriteEndedEarly(context.Logger, upload.Id, end.ToString(), written);
        }

        if (checksumFailure is { } failed)
        {
            // A body cut short cannot match the checksum of the whole body either: its bytes are not kept unverified.
            var reverted = updated;
            if (updated.Offset > startOffset)
            {
                using var call = context.StoreCall(clientGone: default, held.Lost);
                reverted = await call.Await(context.Capabilities.Checksum!.DiscardFromAsync(updated, startOffset, call.Token)).ConfigureAwait(false);
            }

            Log.ChecksumMismatch(context.Logger, upload.Id, Math.Max(0, written));
            return new WriteOutcome(reverted, 0, end == BodyEnd.Completed ? failed : stopped ? TusError.UploadStopped : ErrorFor(end, sizeError));
        }

        return new WriteOutcome(updated, written, end == BodyEnd.Completed ? null : stopped ? TusError.UploadStopped : ErrorFor(end, sizeError));
    }

    /// <summary>
    /// Gives a deferred upload its length, at its offset, when the request completes the upload at the end of its body
    /// and that body arrived whole. A body cut short (or refused) never completes an upload: the client resumes it.
    /// </summary>
    public static async ValueTask<UploadInfo> CompleteAtBodyEndAsync(EngineContext context, TusRequest request, WriteOutcome outcome, ITusLock held)
    {
        var upload = outcome.Upload;
        if (!request.CompletesAtBodyEnd || outcome.Error is not null || outcome.StoreFailed || !outcome.OffsetKnown
            || !upload.IsLengthDeferred || held.Lost.IsCancellationRequested || context.Capabilities.DeferredLength is not { } deferred)
        {
            return upload;
        }

        using var call = context.StoreCall(clientGone: default, held.Lost);
        return (await call.Await(deferred.SetLengthAsync(upload, upload.Offset, call.Token)).ConfigureAwait(false)).FencedBy(held);
    }

    /// <summary>
    /// The store's append threw: the bytes it kept are learned from a fresh lookup, never guessed, and the client is
    /// answered with the failure's stable error and that offset.
    /// </summary>
    private static async ValueTask<WriteOutcome> AfterFailedAppendAsync(EngineContext context, TusRequest request, UploadInfo upload, ITusLock held, Exception exception, TusError? abandoned, long bytesRead)
    {
        var error = abandoned ?? Responses.MapStoreException(exception);
        var kept = await UploadAccess.RereadAfterFailureAsync(context, upload.Id).ConfigureAwait(false);
        if (error is null)
        {
            Log.UnexpectedFailure(context.Logger, exception, request.Method, request.ResourcePath);
            error = TusError.InternalServerError;
        }
        else
        {
            Log.AppendFailed(context.Logger, exception, upload.Id, bytesRead, kept?.Offset, error.Code);
        }

        return kept is null
            ? new WriteOutcome(upload, 0, error, OffsetKnown: false, StoreFailed: true)
            : new WriteOutcome(kept.FencedBy(held), kept.Offset - upload.Offset, error, StoreFailed: true);
    }

    private static TusError ErrorFor(BodyEnd end, TusError sizeError) => end switch
    {
        BodyEnd.Overflow => sizeError,
        BodyEnd.TimedOut => TusError.ReadTimeout,
        BodyEnd.Disconnected => TusError.ConnectionReset,
        BodyEnd.ServerStopping => TusError.ServerShutdown,
        BodyEnd.LeaseLost => TusError.LockLost,
        _ => TusError.UploadInterrupted,
    };

    /// <summary>Whether <paramref name="exception"/> is the body's refusal, passed on as it is or wrapped by the store.</summary>
    private static bool IsChecksumMismatch(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is ChecksumMismatchException)
            {
                return true;
            }
        }

        return false;
    }
}
