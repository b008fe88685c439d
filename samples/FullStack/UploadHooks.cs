using System.Text.Json;
using System.Text.Json.Serialization;
using Tus.Hooks;

namespace Contoso.Uploads;

/// <summary>Refuses uploads that name no file, and logs every finished upload.</summary>
public sealed partial class UploadHooks(ILogger<UploadHooks> logger) : ITusPreCreateHook, ITusPostFinishHook
{
    /// <inheritdoc />
    public ValueTask OnPreCreateAsync(PreCreateContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(context.Metadata.GetString("filename")))
        {
            context.Reject();   // 400 ERR_UPLOAD_REJECTED, answered with our own body
            context.Response.Headers["Content-Type"] = "application/json";
            context.Response.Body = JsonSerializer.Serialize(
                new UploadRejection("filename_required", "Upload-Metadata must carry a filename."),
                UploadJson.Default.UploadRejection);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask OnPostFinishAsync(UploadEventContext context, CancellationToken cancellationToken)
    {
        // Runs off the request, after the client got its answer: the place to start processing the file.
        LogUploadFinished(context.Upload.Id, context.Upload.Metadata.GetString("filename"), context.Upload.Length ?? context.Upload.Offset);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Upload {UploadId} finished: {FileName}, {Bytes} bytes")]
    private partial void LogUploadFinished(string uploadId, string? fileName, long bytes);
}

/// <summary>The body of a refused creation.</summary>
/// <param name="Error">A stable code for programs.</param>
/// <param name="Message">What to change, for people.</param>
public sealed record UploadRejection(string Error, string Message);

// Source-generated serialization: no reflection, so the native build needs nothing at run time.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(UploadRejection))]
internal sealed partial class UploadJson : JsonSerializerContext;
