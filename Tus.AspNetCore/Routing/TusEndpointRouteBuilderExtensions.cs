using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tus.Hosting;
using Tus.AspNetCore.Routing;

// In the framework's namespace, like MapGet(), so that app.MapTus() needs no using directive.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps a tus endpoint.</summary>
public static class TusEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves tus uploads at <paramref name="pattern"/> (creation, e.g. <c>POST /files</c>) and below it (each upload,
    /// e.g. <c>PATCH /files/{id}</c>), for every HTTP method.
    /// </summary>
    /// <param name="endpoints">The application or route group.</param>
    /// <param name="pattern">The endpoint's route, e.g. <c>/files</c>. It may contain route parameters.</param>
    /// <returns>A builder whose conventions, such as <c>.RequireAuthorization()</c>, apply to every tus route.</returns>
    /// <exception cref="InvalidOperationException"><c>services.AddTus()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapTus(this IEndpointRouteBuilder endpoints, string pattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        if (endpoints.ServiceProvider.GetService<TusMarker>() is null)
        {
            throw new InvalidOperationException(
                "tus services are not registered: call services.AddTus() (with a store and a locker, e.g. " +
                ".AddFileStore(o => o.Directory = \"data\").AddMemoryLocker()) before app.MapTus(...).");
        }

        var root = "/" + pattern.Trim('/');
        // The engine is created on the first request, so that start-up validation reports configuration problems first.
        TusEndpointHandler? handler = null;
        Task Handle(Microsoft.AspNetCore.Http.HttpContext context)
        {
            handler ??= new TusEndpointHandler(TusEndpointHandler.GetEngine(context.RequestServices), root);
            return handler.HandleAsync(context);
        }

        var displayName = "tus " + root;
        var endpoint = endpoints.Map(root, Handle).WithDisplayName(displayName);
        var uploads = endpoints.Map(root.TrimEnd('/') + "/{**" + TusEndpointHandler.UploadPathRouteValue + "}", Handle)
            .WithDisplayName(displayName + "/{upload}");
        return new CompositeEndpointConventionBuilder([endpoint, uploads]);
    }
}
