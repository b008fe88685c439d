using Microsoft.Extensions.DependencyInjection;

namespace Tus.AspNetCore;

/// <summary>
/// Returned by <c>services.AddTus()</c>: store and locker packages add extension methods to it, such as
/// <c>.AddFileStore(...)</c> and <c>.AddMemoryLocker()</c>.
/// </summary>
public interface ITusBuilder
{
    /// <summary>The service collection tus is registered in.</summary>
    IServiceCollection Services { get; }
}

internal sealed class TusBuilder(IServiceCollection services) : ITusBuilder
{
    public IServiceCollection Services { get; } = services;
}
