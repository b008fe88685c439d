using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tus.Hosting;

/// <summary>
/// Validates the tus configuration when the host starts (before a web server listens: hosted services start first), runs
/// the start-up checks, builds the engine, and, when
/// uploads expire, removes expired uploads every <see cref="TusOptions.ExpirationSweepInterval"/>.
/// </summary>
internal sealed partial class TusHostedService(IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = services.GetService<ILogger<TusHostedService>>() ?? (ILogger)NullLogger.Instance;
    private CancellationTokenSource? _stopping;
    private Task? _sweeping;
    private TusEngine? _engine;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await TusStartupValidator.ThrowIfInvalidAsync(services, cancellationToken).ConfigureAwait(false);
        var engine = services.GetRequiredService<TusEngine>();
        _engine = engine;
        LogStarted(_logger, engine.Extensions);
        if (engine.Options.Expiration is not null)
        {
            _stopping = new CancellationTokenSource();
            var timeProvider = services.GetRequiredService<TimeProvider>();
            _sweeping = SweepAsync(engine, timeProvider, _stopping.Token);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Post-hooks still queued (post-finish of the last uploads) get until the host's shutdown timeout.
        if (_engine is not null)
        {
            await _engine.DrainHooksAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_stopping is null || _sweeping is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sweeping.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out; the sweep ends on its own.
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopping?.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task SweepAsync(TusEngine engine, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        // Leave the start-up path at once: the first sweep runs one interval from now.
        await Task.Yield();
        using var timer = new PeriodicTimer(engine.Options.ExpirationSweepInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    var removed = await engine.RemoveExpiredUploadsAsync(cancellationToken).ConfigureAwait(false);
                    if (removed > 0)
                    {
                        LogRemoved(_logger, removed);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // A failed sweep must never bring the host down; the next one retries.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    LogSweepFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "tus engine ready; extensions: {Extensions}")]
    private static partial void LogStarted(ILogger logger, IReadOnlyList<string> extensions);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Removed {Count} expired uploads")]
    private static partial void LogRemoved(ILogger logger, int count);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Removing expired uploads failed; retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
