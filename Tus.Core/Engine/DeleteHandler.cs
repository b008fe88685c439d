using Tus.Http;
using Tus.Protocol;

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
            var upload = await context.Store.GetAsync(uploadId, request.Aborted).ConfigureAwait(false);
            if (upload is null)
            {
                return response.Fail(TusError.UploadNotFound);
            }

            await context.Capabilities.Termination!.DeleteAsync(uploadId, context.ServerStopping).ConfigureAwait(false);
            await Notifications.TerminatedAsync(context, request, upload).ConfigureAwait(false);
            return response.Succeed(204);
        }
    }
}
