using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tus;
using Tus.DependencyInjection;
using Tus.Hooks;
using Tus.Hosting;
using Tus.Locking;
using Tus.Stores;

// In the framework's namespace, like AddLogging(), so that services.AddTus() needs no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the tus engine in a service collection, with or without a web host.</summary>
public static class TusServiceCollectionExtensions
{
    /// <summary>
    /// Registers the tus engine with default options, the start-up checks and the expiration sweep (a hosted service of
    /// the generic host). Calling it again registers nothing twice. Add a store and a locker on the returned builder,
    /// e.g. <c>.AddFileStore(o =&gt; o.Directory = "data").AddMemoryLocker()</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for the store, the locker and the rest.</returns>
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
    /// Registers the tus engine and configures its options with a delegate. Calling it again registers nothing twice;
    /// every configure action applies, in order.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, e.g. <c>o =&gt; o.MaxSize = 10L &lt;&lt; 30</c>.</param>
    /// <returns>A builder for the store, the locker and the rest.</returns>
    public static ITusBuilder AddTus(this IServiceCollection services, Action<TusOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddTus();
        services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Registers the tus engine and binds its options from a configuration section, e.g.
    /// <c>builder.Configuration.GetSection("Tus")</c>. Keys are the <see cref="TusOptions"/> property names
    /// (<c>MaxSize</c>, <c>Expiration</c>, <c>Cors:AllowedOrigins</c>, ...); durations are seconds or hh:mm:ss; a list
    /// replaces its default. Unreadable values and unknown keys are reported at start-up, together with every other problem.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding the options.</param>
    /// <returns>A builder for the store, the locker and the rest.</returns>
    public static ITusBuilder AddTus(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddTus();
        var binder = new TusOptionsBinder(configuration);
        services.AddSingleton<IConfigureOptions<TusOptions>>(binder);
        services.AddSingleton(new TusConfigurationSource(binder));
        return builder;
    }

    /// <summary>
    /// Registers the tus engine, binds its options from a configuration section, then applies <paramref name="configure"/>
    /// (which wins where both set a value).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding the options.</param>
    /// <param name="configure">Sets options after binding.</param>
    /// <returns>A builder for the store, the locker and the rest.</returns>
    public static ITusBuilder AddTus(this IServiceCollection services, IConfiguration configuration, Action<TusOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddTus(configuration);
        services.Configure(configure);
        return builder;
    }

    /// <summary>Adds a start-up check (see <see cref="ITusStartupCheck"/>); adding the same type twice adds it once.</summary>
    /// <typeparam name="TCheck">The check, created from the container.</typeparam>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddStartupCheck<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TCheck>(this ITusBuilder builder)
        where TCheck : class, ITusStartupCheck
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITusStartupCheck, TCheck>());
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
            services.GetServices<ITusHook>(),
            stopping);
    }
}
