using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Tus.AspNetCore.Http;

namespace Tus.AspNetCore.Routing;

/// <summary>Serves the requests of one mapped tus endpoint.</summary>
internal sealed class TusEndpointHandler(TusEngine engine, string fallbackPrefix)
{
    internal const string UploadPathRouteValue = "uploadPath";

    public async Task HandleAsync(HttpContext context)
    {
        // The engine enforces its own maximum upload size and a sliding read deadline, so Kestrel's request body size
        // limit and minimum data rate are lifted, for tus endpoints only.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxSize)
        {
            maxSize.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate)
        {
            try
            {
                minRate.MinDataRate = null;
            }
            catch (NotSupportedException)
            {
                // Some transports do not allow it per request; their defaults stay.
            }
        }

        var resourcePath = context.GetRouteValue(UploadPathRouteValue) as string ?? string.Empty;
        var request = new HttpContextTusRequest(context, resourcePath, GetEndpointPath(context, resourcePath));
        Tus.Http.TusResponse response;
        try
        {
            response = await engine.HandleAsync(request).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        await TusResponseWriter.WriteAsync(context, response).ConfigureAwait(false);
    }

    private string GetEndpointPath(HttpContext context, string resourcePath)
    {
        // The endpoint is the request path less the upload path: right for route groups and route parameters
        // ("/tenants/{tenant}/files") too. The mapped literal is the fallback.
        var path = context.Request.Path.Value ?? "/";
        var prefix = path.EndsWith(resourcePath, StringComparison.Ordinal) ? path[..^resourcePath.Length] : fallbackPrefix;
        var endpoint = (context.Request.PathBase.Value ?? string.Empty).TrimEnd('/') + "/" + prefix.Trim('/');
        return endpoint.EndsWith('/') ? endpoint : endpoint + "/";
    }

    internal static TusEngine GetEngine(IServiceProvider services) => services.GetRequiredService<TusEngine>();
}
