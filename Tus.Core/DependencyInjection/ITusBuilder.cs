using Microsoft.Extensions.DependencyInjection;

namespace Tus;

/// <summary>
/// Returned by <c>services.AddTus()</c>. Store and locker packages extend it, each with its own extension method:
/// <c>services.AddTus().AddFileStore(o =&gt; o.Directory = "data").AddMemoryLocker()</c>.
/// </summary>
/// <remarks>
/// It lives in Tus.Core, beside the contracts, so that a store or locker package needs neither ASP.NET Core nor any
/// hosting package to plug in. A package's extension method typically registers its <see cref="Stores.ITusStore"/> or
/// <see cref="Locking.ITusLocker"/> (replacing any registered before), its options, and an <see cref="ITusStartupCheck"/>.
/// </remarks>
public interface ITusBuilder
{
    /// <summary>The service collection tus is registered in.</summary>
    IServiceCollection Services { get; }
}

internal sealed class TusBuilder(IServiceCollection services) : ITusBuilder
{
    public IServiceCollection Services { get; } = services;
}
