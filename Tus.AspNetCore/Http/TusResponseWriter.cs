using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Tus.Http;

namespace Tus.AspNetCore.Http;

/// <summary>Writes the engine's <see cref="TusResponse"/> to an ASP.NET Core response.</summary>
internal static class TusResponseWriter
{
    public static async Task WriteAsync(HttpContext context, TusResponse tusResponse)
    {
        var response = context.Response;
        try
        {
            response.StatusCode = tusResponse.StatusCode;
            foreach (var (name, value) in tusResponse.Headers)
            {
                // The length comes from TusResponse.ContentLength alone, so that it always matches the body written.
                if (!string.Equals(name, HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
                {
                    response.Headers[name] = value;
                }
            }

            if (tusResponse.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified || tusResponse.StatusCode < 200)
            {
                return;
            }

            if (tusResponse.ContentLength is long length)
            {
                response.ContentLength = length;
            }

            // A HEAD response announces the length of the body a GET would return, and sends none.
            if (HttpMethods.IsHead(context.Request.Method))
            {
                return;
            }

            if (tusResponse.BodyStream is { } stream)
            {
                await stream.CopyToAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
            }
            else if (!tusResponse.Body.IsEmpty)
            {
                await response.Body.WriteAsync(tusResponse.Body, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: there is no one left to answer.
        }
        finally
        {
            if (tusResponse.BodyStream is { } stream)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
