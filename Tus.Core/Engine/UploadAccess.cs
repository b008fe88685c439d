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
    public static async ValueTask<(UploadInfo? Upload, TusError? Error)> LoadAsync(EngineContext context, string uploadId, CancellationToken cancellationToken)
    {
        var upload = await context.Store.GetAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (upload is null)
        {
            return (null, TusError.UploadNotFound);
        }

        if (context.Capabilities.Expiration is not null && upload.IsExpiredAt(context.Now))
        {
            return (null, TusError.UploadExpired);
        }

        return (upload, null);
    }
}
