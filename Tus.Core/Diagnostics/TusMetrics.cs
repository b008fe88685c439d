using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tus.Diagnostics;

/// <summary>
/// The engine's instruments, named after the OpenTelemetry semantic conventions (durations in seconds, sizes in bytes,
/// <c>http.request.method</c>, <c>http.response.status_code</c> and <c>error.type</c> as attributes). One meter per
/// process: a listener tells engines apart by nothing, which is what a dashboard of one server wants.
/// </summary>
internal static class TusMetrics
{
    public const string MethodTag = "http.request.method";
    public const string StatusCodeTag = "http.response.status_code";
    public const string ErrorTypeTag = "error.type";
    public const string OperationTag = "tus.store.operation";
    public const string LockOutcomeTag = "tus.lock.outcome";

    private static readonly Meter Meter = new(TusDiagnostics.MeterName, typeof(TusMetrics).Assembly.GetName().Version?.ToString());

#if NET9_0_OR_GREATER
    // Seconds from a millisecond to ten minutes: tus requests range from an OPTIONS to a long PATCH. (Advice reaches
    // listeners from .NET 9 on; on .NET 8 an exporter's own defaults apply.)
    private static readonly double[] DurationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
#endif

    public static readonly Histogram<double> RequestDuration = Duration("tus.server.request.duration", "Duration of tus requests, until the last byte of a download was read.");

    public static readonly Histogram<double> StoreCallDuration = Duration("tus.store.call.duration", "Duration of calls into the store; an append includes waiting for the client's body.");

    public static readonly Histogram<double> LockWaitDuration = Duration("tus.lock.wait.duration", "Time spent acquiring an upload's lock.");

    public static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("tus.upload.received", "By", "Bytes read from upload bodies (PATCH and creation-with-upload).");

    public static readonly Counter<long> BytesServed = Meter.CreateCounter<long>("tus.download.served", "By", "Bytes of finished uploads sent to clients (GET).");

    public static readonly Counter<long> UploadsCreated = Meter.CreateCounter<long>("tus.upload.created", "{upload}", "Uploads created.");

    public static readonly Counter<long> UploadsFinished = Meter.CreateCounter<long>("tus.upload.finished", "{upload}", "Uploads that received their last byte (or were assembled, for final uploads).");

    public static readonly Counter<long> UploadsTerminated = Meter.CreateCounter<long>("tus.upload.terminated", "{upload}", "Uploads deleted by a client (termination extension).");

    public static readonly Counter<long> UploadsExpired = Meter.CreateCounter<long>("tus.upload.expired", "{upload}", "Expired unfinished uploads removed by the sweep.");

    public static readonly UpDownCounter<long> ActiveWrites = Meter.CreateUpDownCounter<long>("tus.upload.active_writes", "{upload}", "Uploads receiving a body right now.");

    public static readonly Histogram<double> HookDuration = Duration("tus.hook.duration", "Duration of hook calls (every handler of one event for one upload), by event and outcome.");

    public static readonly Counter<long> HookCalls = Meter.CreateCounter<long>("tus.hook.calls", "{call}", "Hook calls, by event (tus.hook.event) and outcome (tus.hook.outcome).");

    public static readonly Counter<long> HookFailures = Meter.CreateCounter<long>("tus.hook.failures", "{call}", "Hook calls that failed, timed out or (post-hooks) were dropped from a full queue, by event and error.type.");

    public static readonly Counter<long> LocksLost = Meter.CreateCounter<long>("tus.lock.lost", "{lock}", "Leases lost while held (a distributed locker could not renew one).");

    /// <summary>The method as the <c>http.request.method</c> attribute: known methods as sent, anything else <c>_OTHER</c>,
    /// so that a client cannot grow the number of series.</summary>
    public static string MethodAttribute(string method) => method switch
    {
        "GET" or "HEAD" or "POST" or "PATCH" or "DELETE" or "OPTIONS" => method,
        _ => "_OTHER",
    };

    private static Histogram<double> Duration(string name, string description) =>
#if NET9_0_OR_GREATER
        Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
#else
        Meter.CreateHistogram<double>(name, "s", description);
#endif

    /// <summary>Seconds since <paramref name="startTimestamp"/> on <paramref name="time"/>'s clock.</summary>
    public static double SecondsSince(TimeProvider time, long startTimestamp) => time.GetElapsedTime(startTimestamp).TotalSeconds;

    /// <summary>The <c>error.type</c> of a failure: the tus error code of a coded store failure (or of a body refused for its
    /// checksum), else the exception's type.</summary>
    public static string ErrorType(Exception exception) =>
        exception is Stores.TusStoreException coded ? coded.Error.Code
        : exception is Stores.ChecksumMismatchException ? Protocol.TusError.ChecksumMismatch.Code
        : exception.GetType().FullName ?? "_OTHER";

    /// <summary>Marks a span failed with <paramref name="errorType"/>.</summary>
    public static void SetError(Activity? activity, string errorType)
    {
        if (activity is not null)
        {
            activity.SetTag(ErrorTypeTag, errorType);
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }
}
