using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tus;
using Tus.Locking;
using Tus.Stores;

// In the DI namespace, like the other builder extensions, so that .WithQuota() needs no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts a storage quota around the store of a tus registration: <c>.AddFileStore(...).WithQuota(o =&gt; o.MaxTotalBytes = 50L &lt;&lt; 30)</c>.</summary>
public static class QuotaTusBuilderExtensions
{
    /// <summary>
    /// Wraps the store added before this call (<c>AddFileStore</c>, <c>AddS3Store</c>, or any <see cref="ITusStore"/>
    /// registration) in a <see cref="LimitedStore"/>, and registers <see cref="ITusQuota"/> for its figures. At start-up the
    /// options are validated, the wrapped store must offer listing, and the accounting is rebuilt from it before the
    /// first request; any problem stops the host with a clear message. Calling it again only configures the options again.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>, with a store added.</param>
    /// <param name="configure">Sets the limits, e.g. <c>o =&gt; o.MaxTotalBytes = 50L &lt;&lt; 30</c>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="InvalidOperationException">No store was added before.</exception>
    public static ITusBuilder WithQuota(this ITusBuilder builder, Action<QuotaOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.Configure(configure);
        if (services.Any(static d => d.ServiceType == typeof(QuotaMarker)))
        {
            return builder;
        }

        var wrapped = services.LastOrDefault(static d => d.ServiceType == typeof(ITusStore) && !d.IsKeyedService)
            ?? throw new InvalidOperationException("WithQuota() wraps the store added before it: call AddFileStore(...), AddS3Store(...) or register an ITusStore first.");
        services.RemoveAll<ITusStore>();
        services.AddSingleton<QuotaMarker>();
        services.AddSingleton(sp => new LimitedStore(
            Resolve(sp, wrapped),
            sp.GetRequiredService<IOptions<QuotaOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ITusLocker>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger("Tus.Stores.Limited"),
            ownsInner: wrapped.ImplementationInstance is null));
        services.AddSingleton<ITusStore>(static sp => sp.GetRequiredService<LimitedStore>());
        services.AddSingleton<ITusQuota>(static sp => sp.GetRequiredService<LimitedStore>());
        return builder.AddStartupCheck<QuotaStartupCheck>();
    }

    private static ITusStore Resolve(IServiceProvider services, ServiceDescriptor descriptor)
    {
        if (descriptor.ImplementationInstance is ITusStore instance)
        {
            return instance;
        }

        if (descriptor.ImplementationFactory is { } factory)
        {
            return (ITusStore)factory(services);
        }

        return (ITusStore)ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!);
    }

    private sealed class QuotaMarker;

    // Fails the start-up on limits that cannot work, on a store that was added after WithQuota() (it would have replaced
    // the wrapper silently), on a wrapped store that cannot list or delete as needed, and on an accounting that cannot be
    // rebuilt; otherwise leaves the accounting ready before the first request.
    private sealed class QuotaStartupCheck(IServiceProvider services, IOptions<QuotaOptions> options) : ITusStartupCheck
    {
        public async ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken)
        {
            var problems = options.Value.Validate();
            if (problems.Count > 0)
            {
                return problems;
            }

            if (services.GetService<ITusStore>() is not LimitedStore store)
            {
                return ["WithQuota(): another store was added after it and replaced the quota; call WithQuota(...) after AddFileStore(...) / AddS3Store(...)."];
            }

            var inner = store.InnerStore;
            var found = new List<string>();
            if (inner.Listing is null)
            {
                found.Add($"WithQuota(): the wrapped store ({inner.GetType().Name}) cannot list its uploads, and the quota rebuilds its accounting from that listing at start-up.");
            }

            if (options.Value.ReclaimAfter is not null && inner.Termination is null && inner.Expiration is null)
            {
                found.Add($"{nameof(QuotaOptions)}.{nameof(QuotaOptions.ReclaimAfter)}: the wrapped store ({inner.GetType().Name}) can neither terminate nor expire uploads, so nothing could be reclaimed.");
            }

            if (found.Count > 0)
            {
                return found;
            }

            try
            {
                await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return [$"WithQuota(): the accounting could not be rebuilt from the wrapped store's listing: {exception.Message}"];
            }

            return [];
        }
    }
}
