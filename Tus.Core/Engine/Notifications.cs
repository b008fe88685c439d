using Tus.Hooks;
using Tus.Http;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>Raises the lifecycle notifications of <see cref="TusEvents"/>.</summary>
internal static class Notifications
{
    public static ValueTask CreatedAsync(EngineContext context, TusRequest request, UploadInfo upload)
    {
        Log.UploadCreated(context.Logger, upload.Id, upload.Length);
        Diagnostics.TusMetrics.UploadsCreated.Add(1);
        return RaiseAsync(context.Options.Events.OnCreated, request, upload);
    }

    public static ValueTask CompletedAsync(EngineContext context, TusRequest request, UploadInfo upload)
    {
        Log.UploadCompleted(context.Logger, upload.Id, upload.Length);
        Diagnostics.TusMetrics.UploadsFinished.Add(1);
        return RaiseAsync(context.Options.Events.OnCompleted, request, upload);
    }

    public static ValueTask TerminatedAsync(EngineContext context, TusRequest request, UploadInfo upload)
    {
        Log.UploadTerminated(context.Logger, upload.Id);
        Diagnostics.TusMetrics.UploadsTerminated.Add(1);
        return RaiseAsync(context.Options.Events.OnTerminated, request, upload);
    }

    private static ValueTask RaiseAsync(Func<UploadEventContext, ValueTask>? handler, TusRequest request, UploadInfo upload) =>
        handler is null ? ValueTask.CompletedTask : handler(new UploadEventContext(request, upload, request.Aborted));
}
