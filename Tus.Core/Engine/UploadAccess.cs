using Tus.Http;
using Tus.Locking;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>Taking an upload's lock and loading the upload under it, the same way for every method.</summary>
internal static class UploadAccess
{
    /// <summary>Acquires the upload's lock within the lock timeout; the wait asks a stale holder to let go.</summary>
    public static async ValueTask<(ITusLock? Held, TusError? Error)> LockAsync(EngineContext context, TusRequest request, string uploadId)
    {
        using var timeout = new CancellationTokenSource(context.Options.LockTimeout, context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, request.Aborted, context.ServerStopping);
        try
        {
            return (await context.Locker.AcquireAsync(uploadId, linked.Token).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException) when (request.Aborted.IsCancellationRequested)
        {
            return (null, TusError.ConnectionReset);
        }
        catch (OperationCanceledException) when (context.ServerStopping.IsCancellationRequested)
        {
            return (null, TusError.ServerShutdown);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return (null, TusError.LockTimeout);
        }
    }

    /// <summary>Loads an upload, answering 404 when there is none and 410 when it expired unfinished.</summary>
    /// <param name="context">The engine.</param>
    /// <param name="uploadId">The upload.</param>
    /// <param name="clientGone">The request's abort signal.</param>
    /// <param name="held">The upload's lock when the request holds it: its fencing token rides along to the store.</param>
    public static async ValueTask<(UploadInfo? Upload, TusError? Error)> LoadAsync(EngineContext context, string uploadId, CancellationToken clientGone, ITusLock? held = null)
    {
        UploadInfo? upload;
        using (var call = context.StoreCall(clientGone, held?.Lost ?? default))
        {
            upload = await call.AwaitLookup(context.Store.GetAsync(uploadId, call.Token)).ConfigureAwait(false);
        }

        if (upload is null)
        {
            return (null, TusError.UploadNotFound);
        }

        if (context.Capabilities.Expiration is not null && upload.IsExpiredAt(context.Now))
        {
            return (null, TusError.UploadExpired);
        }

        return (held is null ? upload : upload.FencedBy(held), null);
    }

    /// <summary>The upload as a store returned it, carrying the fencing token of the lock its next calls are made under.</summary>
    public static UploadInfo FencedBy(this UploadInfo upload, ITusLock held) =>
        upload.FencingToken == held.FencingToken ? upload : upload with { FencingToken = held.FencingToken };

    /// <summary>
    /// Reads the upload again after a store call failed, to answer with the offset the store really kept rather than a
    /// guess. <see langword="null"/> when that lookup fails too.
    /// </summary>
    public static async ValueTask<UploadInfo?> RereadAfterFailureAsync(EngineContext context, string uploadId)
    {
        try
        {
            using var call = context.StoreCall(clientGone: default);
            return await call.AwaitLookup(context.Store.GetAsync(uploadId, call.Token)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The answer goes out without an offset; the failure that matters was logged already.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.RereadFailed(context.Logger, exception, uploadId);
            return null;
        }
    }
}