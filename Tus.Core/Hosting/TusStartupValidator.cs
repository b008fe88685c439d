using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tus.DependencyInjection;
using Tus.Locking;
using Tus.Stores;

namespace Tus.Hosting;

/// <summary>Checks the whole tus configuration and reports every problem at once.</summary>
internal static class TusStartupValidator
{
    internal const string MissingStore =
        "No ITusStore is registered: call .AddFileStore(...) (package Tus.Stores.File) or another store's extension on the builder returned by services.AddTus(), or register an ITusStore.";

    internal const string MissingLocker =
        "No ITusLocker is registered: call .AddMemoryLocker() (package Tus.Lockers.Memory; one server process) or a distributed locker's extension on the builder returned by services.AddTus(), or register an ITusLocker.";

    /// <summary>Returns every configuration problem, the start-up checks' included; empty when tus can start.</summary>
    public static async ValueTask<List<string>> ValidateAsync(IServiceProvider services, CancellationToken cancellationToken)
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

        var checkTimeout = TimeSpan.FromSeconds(60);
        try
        {
            var options = services.GetRequiredService<IOptions<TusOptions>>().Value;
            errors.AddRange(options.Validate().Select(e => "TusOptions: " + e));
            if (options.StoreCallTimeout > TimeSpan.Zero)
            {
                checkTimeout = options.StoreCallTimeout;
            }
        }
        catch (OptionsValidationException ex)
        {
            errors.AddRange(ex.Failures.Select(e => "TusOptions: " + e));
        }

        foreach (var source in services.GetServices<TusConfigurationSource>())
        {
            errors.AddRange(source.Problems);
        }

        // The checks run one after another: they are few, and a failing backend should be reported once, clearly.
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        foreach (var check in services.GetServices<ITusStartupCheck>())
        {
            using var limit = new CancellationTokenSource(checkTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
            try
            {
                // WaitAsync: a check that ignores its token (a client library without one) is abandoned at the limit too,
                // instead of holding the host's start-up forever.
                errors.AddRange(await check.CheckAsync(linked.Token).AsTask().WaitAsync(linked.Token).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                errors.Add($"{check.GetType().Name}: did not finish within {checkTimeout.TotalSeconds:0.#} s.");
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                errors.Add($"{check.GetType().Name}: failed: {exception.Message}");
            }
        }

        return errors;
    }

    /// <summary>Throws one exception listing every problem, when there is any.</summary>
    /// <exception cref="InvalidOperationException">The configuration has problems; the message lists them all.</exception>
    public static async ValueTask ThrowIfInvalidAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var errors = await ValidateAsync(services, cancellationToken).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(
                "tus cannot start; fix the configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)));
        }
    }
}
