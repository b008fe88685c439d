using System.Diagnostics;

namespace Tus.Diagnostics;

/// <summary>The engine's spans: one per tus request, with a child per store call and lock acquisition.</summary>
internal static class TusActivities
{
    public const string UploadIdTag = "tus.upload.id";
    public const string OffsetTag = "tus.upload.offset";
    public const string BytesTag = "tus.upload.bytes";

    public static readonly ActivitySource Source = new(TusDiagnostics.ActivitySourceName, typeof(TusActivities).Assembly.GetName().Version?.ToString());
}
