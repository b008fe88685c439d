using System.Diagnostics;
using System.Globalization;
using Tus.Engine;
using Tus.Http;
using Tus.Protocol;

namespace Tus.Diagnostics;

/// <summary>
/// Wraps the handling of one request in its span, its log scope (the upload id) and its duration. A download ends when
/// its body has been read to the client (<see cref="ObservedDownloadStream"/>), so its duration and bytes are real.
/// </summary>
internal static class RequestTelemetry
{
    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest request)
    {
        var started = context.Time.GetTimestamp();
        var method = TusMetrics.MethodAttribute(request.Method);
        var uploadId = UploadId.IsValid(request.ResourcePath) ? request.ResourcePath : null;
        var activity = TusActivities.Source.StartActivity(SpanName(method));
        if (activity is not null)
        {
            activity.SetTag(TusMetrics.MethodTag, method);
            activity.SetTag(TusActivities.UploadIdTag, uploadId);
        }

        using var scope = uploadId is null ? null : Log.UploadScope(context.Logger, uploadId);
        TusResponse response;
        try
        {
            response = await Draft.DraftDialect.DispatchAsync(context, request).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The dispatcher answers every failure itself; this is only so a span never stays open.
            TusMetrics.SetError(activity, TusMetrics.ErrorType(exception));
            activity?.Dispose();
            throw;
        }

        if (response.BodyStream is { } body)
        {
            response.BodyStream = new ObservedDownloadStream(body, new Finished(context, request, response, method, started, activity));
        }
        else
        {
            new Finished(context, request, response, method, started, activity).Complete(bytesServed: 0);
        }

        return response;
    }

    private static string SpanName(string method) => method switch
    {
        "GET" => "tus GET",
        "HEAD" => "tus HEAD",
        "POST" => "tus POST",
        "PATCH" => "tus PATCH",
        "DELETE" => "tus DELETE",
        "OPTIONS" => "tus OPTIONS",
        _ => "tus",
    };

    /// <summary>What is recorded when a request is over.</summary>
    internal sealed record Finished(EngineContext Context, TusRequest Request, TusResponse Response, string Method, long Started, Activity? Activity)
    {
        public void Complete(long bytesServed)
        {
            var elapsed = Context.Time.GetElapsedTime(Started);
            var status = Response.StatusCode;
            var errorCode = Response.Error?.Code;
            var tags = new TagList
            {
                { TusMetrics.MethodTag, Method },
                { TusMetrics.StatusCodeTag, status },
            };
            if (errorCode is not null)
            {
                tags.Add(TusMetrics.ErrorTypeTag, errorCode);
            }

            TusMetrics.RequestDuration.Record(elapsed.TotalSeconds, tags);
            if (bytesServed > 0)
            {
                TusMetrics.BytesServed.Add(bytesServed);
            }

            if (Activity is { } activity)
            {
                activity.SetTag(TusMetrics.StatusCodeTag, status);
                if (Response.GetHeader(TusHeaders.UploadOffset) is { } offset && long.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    activity.SetTag(TusActivities.OffsetTag, value);
                }

                if (activity.GetTagItem(TusActivities.UploadIdTag) is null && Response.GetHeader("Location") is { } location)
                {
                    activity.SetTag(TusActivities.UploadIdTag, location[(location.LastIndexOf('/') + 1)..]);
                }

                if (errorCode is not null)
                {
                    activity.SetTag(TusMetrics.ErrorTypeTag, errorCode);
                }

                // As for HTTP server spans: a client's own mistake does not make the span an error, a server failure does.
                if (status >= 500)
                {
                    activity.SetStatus(ActivityStatusCode.Error);
                }

                activity.Dispose();
            }

            if (errorCode is null)
            {
                Log.RequestHandled(Context.Logger, Request.Method, Request.ResourcePath, status, elapsed.TotalMilliseconds);
            }
            else if (status < 500)
            {
                // Server failures were logged where they happened, at warning or error.
                Log.RequestFailed(Context.Logger, Request.Method, Request.ResourcePath, status, errorCode);
            }
        }
    }
}
