using Tus.Hooks;
using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>
/// The front door: method override, CORS, version negotiation, routing to the handler of each method, authorization,
/// and the one place where failures become responses.
/// </summary>
internal static class RequestDispatcher
{
    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest request)
    {
        var response = await DispatchAsync(context, request).ConfigureAwait(false);
        context.Hooks.ApplyResponseChanges(request, response);
        return response;
    }

    private static async ValueTask<TusResponse> DispatchAsync(EngineContext context, TusRequest request)
    {
        var response = Responses.Status(204);
        var method = EffectiveMethod(request);
        var isHead = method == "HEAD";
        try
        {
            response.SetHeader(TusHeaders.TusResumable, TusHeaders.ProtocolVersion);
            response.SetHeader("X-Content-Type-Options", "nosniff");
            if (!context.Cors.Apply(request, method, response))
            {
                return response.Fail(TusError.OriginNotAllowed, withBody: !isHead);
            }

            if (method == "OPTIONS")
            {
                return OptionsHandler.Handle(context, response);
            }

            // GET is a plain download a browser may open directly, so it alone is exempt from version negotiation.
            if (method != "GET" && !string.Equals(request.GetHeader(TusHeaders.TusResumable)?.Trim(), TusHeaders.ProtocolVersion, StringComparison.Ordinal))
            {
                return response.Fail(TusError.UnsupportedVersion, withBody: !isHead);
            }

            var path = request.ResourcePath;
            if (path.Length == 0)
            {
                return method == "POST"
                    ? await PostHandler.HandleAsync(context, request, response, string.Empty).ConfigureAwait(false)
                    : NotAllowed(response, "POST, OPTIONS", isHead);
            }

            if (!UploadId.IsValid(path))
            {
                return response.Fail(TusError.UploadNotFound, withBody: !isHead);
            }

            return method switch
            {
                "HEAD" => await AuthorizedAsync(context, request, response, TusIntent.GetInfo, path, HeadHandler.HandleAsync).ConfigureAwait(false),
                "PATCH" => await AuthorizedAsync(context, request, response, TusIntent.Write, path, PatchHandler.HandleAsync).ConfigureAwait(false),
                "DELETE" when context.Capabilities.Termination is not null =>
                    await AuthorizedAsync(context, request, response, TusIntent.Terminate, path, DeleteHandler.HandleAsync).ConfigureAwait(false),
                "GET" when context.Capabilities.Download =>
                    await AuthorizedAsync(context, request, response, TusIntent.Download, path, GetHandler.HandleAsync).ConfigureAwait(false),
                _ => NotAllowed(response, AllowedOnUpload(context), isHead),
            };
        }
        catch (OperationCanceledException) when (request.Aborted.IsCancellationRequested)
        {
            // Nobody is listening any more; whatever was written has been kept by the store.
            return response.Fail(TusError.ConnectionReset, withBody: false);
        }
        catch (OperationCanceledException) when (context.ServerStopping.IsCancellationRequested)
        {
            return response.Fail(TusError.ServerShutdown, withBody: !isHead);
        }
        catch (Exception exception) when (Responses.MapStoreException(exception) is { } error)
        {
            if (error.StatusCode < 500)
            {
                Log.StoreRefused(context.Logger, method, request.ResourcePath, error.StatusCode, error.Code, exception.Message);
            }
            else
            {
                Log.StoreFailure(context.Logger, exception, method, request.ResourcePath, error.Code);
            }

            return response.Fail(error, withBody: !isHead);
        }
        catch (Exception exception)
        {
            Log.UnexpectedFailure(context.Logger, exception, method, request.ResourcePath);
            return response.Fail(TusError.InternalServerError, withBody: !isHead);
        }
    }

    internal static string EffectiveMethod(TusRequest request)
    {
        var method = request.Method.ToUpperInvariant();

        // Only POST may be overridden: a GET turned into a DELETE by a link or an image tag would be a forged request.
        if (method == "POST" && request.GetHeader(TusHeaders.MethodOverride) is { Length: > 0 } overridden)
        {
            return overridden.Trim().ToUpperInvariant();
        }

        return method;
    }

    private static async ValueTask<TusResponse> AuthorizedAsync(
        EngineContext context,
        TusRequest request,
        TusResponse response,
        TusIntent intent,
        string uploadId,
        Func<EngineContext, TusRequest, TusResponse, string, ValueTask<TusResponse>> handler)
    {
        if (!await context.Hooks.AuthorizeAsync(request, response, intent, uploadId).ConfigureAwait(false))
        {
            return response;
        }

        return await handler(context, request, response, uploadId).ConfigureAwait(false);
    }

    private static string AllowedOnUpload(EngineContext context)
    {
        var allowed = "HEAD, PATCH, OPTIONS";
        if (context.Capabilities.Termination is not null)
        {
            allowed += ", DELETE";
        }

        if (context.Capabilities.Download)
        {
            allowed += ", GET";
        }

        return allowed;
    }

    private static TusResponse NotAllowed(TusResponse response, string allow, bool isHead)
    {
        response.SetHeader("Allow", allow);
        return response.Fail(TusError.MethodNotAllowed, withBody: !isHead);
    }
}
