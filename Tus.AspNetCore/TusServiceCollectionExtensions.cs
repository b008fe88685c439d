using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tus;
using Tus.AspNetCore;
using Tus.AspNetCore.Hosting;
using Tus.Locking;
using Tus.Stores;

// In the framework's namespace, like AddRouting(), so that services.AddTus() needs no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the tus engine in a service collection.</summary>
public static class TusServiceCollectionExtensions
{
    /// <summary>
    /// Registers the tus engine with default options. Calling it again registers nothing twice. Add a store and a locker
    /// on the returned builder, e.g. <c>.AddFileStore(o => o.Directory = "data").AddMemoryLocker()</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for the store and the locker.</returns>
    public static ITusBuilder AddTus(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(TusMarker)))
        {
            return new TusBuilder(services);
        }

        services.AddSingleton<TusMarker>();
        services.AddOptions<TusOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(CreateEngine);
        services.AddHostedService<TusHostedService>();
        return new TusBuilder(services);
    }

    /// <summary>
    /// Registers the tus engine and configures its options. Calling it again registers nothing twice; every configure
    /// action applies, in order.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, e.g. <c>o => o.MaxSize = 10L &lt;&lt; 30</c>.</param>
    /// <returns>A builder for the store and the locker.</returns>
    public static ITusBuilder AddTus(this IServiceCollection services, Action<TusOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddTus();
        services.Configure(configure);
        return builder;
    }

    private static TusEngine CreateEngine(IServiceProvider services)
    {
        var store = services.GetService<ITusStore>() ?? throw new InvalidOperationException(TusStartupValidator.MissingStore);
        var locker = services.GetService<ITusLocker>() ?? throw new InvalidOperationException(TusStartupValidator.MissingLocker);
        var stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        return new TusEngine(
            store,
            locker,
            services.GetRequiredService<IOptions<TusOptions>>().Value,
            services.GetRequiredService<TimeProvider>(),
            services.GetService<ILogger<TusEngine>>(),
            stopping);
    }
}
