using Microsoft.Extensions.DependencyInjection.Extensions;
using Tus;
using Tus.Lockers.Memory;
using Tus.Locking;

// In the DI namespace, like the other builder extensions, so that .AddMemoryLocker() needs no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the in-process locker to a tus registration: <c>services.AddTus().AddMemoryLocker()</c>.</summary>
public static class MemoryLockerTusBuilderExtensions
{
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
}
