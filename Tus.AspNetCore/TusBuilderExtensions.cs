using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tus.AspNetCore;
using Tus.AspNetCore.Hosting;
using Tus.Locking;
using Tus.Lockers.Memory;
using Tus.Stores;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds the file store and the in-memory locker to a tus registration.
/// </summary>
/// <remarks>
/// These belong to Tus.Stores.File and Tus.Lockers.Memory in spirit, but live here so that those packages stay free of
/// ASP.NET Core and of this package. The accepted cost: Tus.AspNetCore references both. Other stores and lockers ship
/// their own extension methods on <see cref="ITusBuilder"/>.
/// </remarks>
public static class TusBuilderExtensions
{
    /// <summary>Stores uploads as files in the default directory (<c>data</c>), replacing any store registered before.</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddFileStore(this ITusBuilder builder) => builder.AddFileStore(static _ => { });

    /// <summary>Stores uploads as files, replacing any store registered before. The options are validated at start-up.</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="configure">Sets the options, e.g. <c>o => o.Directory = "data"</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddFileStore(this ITusBuilder builder, Action<FileStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.Configure(configure);
        services.RemoveAll<ITusStore>();
        services.AddSingleton<ITusStore>(static sp => new FileStore(
            sp.GetRequiredService<IOptions<FileStoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITusStartupCheck, FileStoreOptionsCheck>());
        return builder;
    }

    /// <summary>
    /// Locks uploads in this process's memory, replacing any locker registered before. Right for a single server
    /// process; use a distributed locker when several processes share a store.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddMemoryLocker(this ITusBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.RemoveAll<ITusLocker>();
        builder.Services.AddSingleton<ITusLocker, MemoryLocker>();
        return builder;
    }

    // Runs whenever AddFileStore was called: its options were configured on purpose, so they must be valid.
    private sealed class FileStoreOptionsCheck(IServiceProvider services) : ITusStartupCheck
    {
        public IEnumerable<string> Validate()
        {
            IReadOnlyList<string> errors;
            try
            {
                errors = services.GetRequiredService<IOptions<FileStoreOptions>>().Value.Validate();
            }
            catch (OptionsValidationException ex)
            {
                errors = [.. ex.Failures];
            }

            // The store's messages name the option already ("FileStoreOptions.Directory ...").
            return errors;
        }
    }
}
