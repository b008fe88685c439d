using Tus.Http;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>Logs the milestones of an upload and raises their hooks.</summary>
internal static class Notifications
{
    /// <summary>An upload was created: queues its post-create hooks.</summary>
    public static ValueTask CreatedAsync(EngineContext context, TusRequest request, UploadInfo upload)
    {
        Log.UploadCreated(context.Logger, upload.Id, upload.Length);
        Diagnostics.TusMetrics.UploadsCreated.Add(1);
        context.Hooks.PostCreate(request, upload);
        return ValueTask.CompletedTask;
    }

    /// <summary>An upload got its last byte: runs its pre-finish hooks, then queues its post-finish hooks.</summary>
    public static ValueTask CompletedAsync(EngineContext context, TusRequest request, UploadInfo upload)
    {
        Log.UploadCompleted(context.Logger, upload.Id, upload.Length);
        Diagnostics.TusMetrics.UploadsFinished.Add(1);
        return context.Hooks.FinishAsync(request, upload);
    }

    /// <summary>An upload was terminated: queues its post-terminate hooks.</summary>
    public static ValueTask TerminatedAsync(EngineContext context, TusRequest request, UploadInfo upload)
    {
        Log.UploadTerminated(context.Logger, upload.Id);
        Diagnostics.TusMetrics.UploadsTerminated.Add(1);
        context.Hooks.PostTerminate(request, upload);
        return ValueTask.CompletedTask;
    }
}
