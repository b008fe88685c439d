using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tus.Locking;
using Tus.Stores;

namespace Tus.AspNetCore.Hosting;

/// <summary>Checks the whole tus configuration and reports every problem at once.</summary>
internal static class TusStartupValidator
{
    internal const string MissingStore =
        "No ITusStore is registered: call .AddFileStore(...) on the builder returned by services.AddTus(), or register an ITusStore.";

    internal const string MissingLocker =
        "No ITusLocker is registered: call .AddMemoryLocker() on the builder returned by services.AddTus() (one server process), or register an ITusLocker.";

    /// <summary>Returns every configuration problem; empty when tus can start.</summary>
    public static List<string> Validate(IServiceProvider services)
    {
        var errors = new List<string>();
        var isService = services.GetService<IServiceProviderIsService>();
        if (isService is null ? services.GetService<ITusStore>() is null : !isService.IsService(typeof(ITusStore)))
        {
            errors.Add(MissingStore);
        }

        if (isService is null ? services.GetService<ITusLocker>() is null : !isService.IsService(typeof(ITusLocker)))
        {
            errors.Add(MissingLocker);
        }

        try
        {
            errors.AddRange(services.GetRequiredService<IOptions<TusOptions>>().Value.Validate().Select(e => "TusOptions: " + e));
        }
        catch (OptionsValidationException ex)
        {
            errors.AddRange(ex.Failures.Select(e => "TusOptions: " + e));
        }

        foreach (var check in services.GetServices<ITusStartupCheck>())
        {
            errors.AddRange(check.Validate());
        }

        return errors;
    }

    /// <summary>Throws one exception listing every problem, when there is any.</summary>
    /// <exception cref="InvalidOperationException">The configuration has problems; the message lists them all.</exception>
    public static void ThrowIfInvalid(IServiceProvider services)
    {
        var errors = Validate(services);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(
                "tus cannot start; fix the configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)));
        }
    }
}
