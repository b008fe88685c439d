using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>DELETE: the termination extension.</summary>
internal static class DeleteHandler
{
    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest request, TusResponse response, string uploadId)
    {
        var (held, lockError) = await UploadAccess.LockAsync(context, request, uploadId).ConfigureAwait(false);
        if (held is null)
        {
            return response.Fail(lockError!);
        }

        await using (held.ConfigureAwait(false))
        {
            // An expired upload may still be terminated: the client wants it gone, and so does the server.
            UploadInfo? upload;
            using (var call = context.StoreCall(request.Aborted, held.Lost))
            {
                upload = await call.AwaitLookup(context.Store.GetAsync(uploadId, call.Token)).ConfigureAwait(false);
            }

            if (upload is null)
            {
                return response.Fail(TusError.UploadNotFound);
            }

            if (!await context.Hooks.PreTerminateAsync(request, response, upload).ConfigureAwait(false))
            {
                return response;
            }

            // Once begun, a deletion is finished even if the client goes away.
            using (var call = context.StoreCall(clientGone: default, held.Lost))
            {
                await call.Await(context.Capabilities.Termination!.DeleteAsync(uploadId, call.Token)).ConfigureAwait(false);
            }

            await Notifications.TerminatedAsync(context, request, upload).ConfigureAwait(false);
            return response.Succeed(204);
        }
    }
}
