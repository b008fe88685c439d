using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tus.Engine;
using Tus.Expiration;
using Tus.Hooks;
using Tus.Http;
using Tus.Locking;
using Tus.Stores;

namespace Tus;

/// <summary>
/// The tus protocol engine: turns one <see cref="TusRequest"/> into one <see cref="TusResponse"/>, over the configured
/// store and locker. It knows nothing of any web server; Tus.AspNetCore hosts it in ASP.NET Core.
/// </summary>
public sealed class TusEngine : IDisposable
{
    private readonly EngineContext _context;

    /// <summary>Creates the engine.</summary>
    /// <param name="store">Where uploads are stored.</param>
    /// <param name="locker">Grants exclusive access to an upload.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <param name="serverStopping">Fires when the host shuts down: in-flight bodies end, keep their data and are answered 503.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public TusEngine(ITusStore store, ITusLocker locker, TusOptions options, TimeProvider timeProvider, ILogger<TusEngine>? logger, CancellationToken serverStopping)
        : this(store, locker, options, timeProvider, logger, [], serverStopping)
    {
    }

    /// <summary>Creates the engine with hooks.</summary>
    /// <param name="store">Where uploads are stored.</param>
    /// <param name="locker">Grants exclusive access to an upload.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <param name="hooks">The hook handlers; those of one event run in the order given.</param>
    /// <param name="serverStopping">Fires when the host shuts down: in-flight bodies end, keep their data and are answered 503.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public TusEngine(ITusStore store, ITusLocker locker, TusOptions options, TimeProvider timeProvider, ILogger<TusEngine>? logger, IEnumerable<ITusHook> hooks, CancellationToken serverStopping)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(locker);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(hooks);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid tus options:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)), nameof(options));
        }

        _context = new EngineContext(store, locker, options, timeProvider, logger ?? NullLogger<TusEngine>.Instance, hooks, serverStopping);
    }

    /// <summary>Creates the engine with no shutdown signal.</summary>
    /// <param name="store">Where uploads are stored.</param>
    /// <param name="locker">Grants exclusive access to an upload.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    public TusEngine(ITusStore store, ITusLocker locker, TusOptions options, TimeProvider timeProvider, ILogger<TusEngine>? logger)
        : this(store, locker, options, timeProvider, logger, CancellationToken.None)
    {
    }

    /// <summary>The tus extensions this engine serves, derived from the store's capabilities and the options.</summary>
    public IReadOnlyList<string> Extensions => _context.Capabilities.Extensions;

    /// <summary>The checksum algorithms accepted in <c>Upload-Checksum</c>; empty when the checksum extension is off.</summary>
    public IReadOnlyList<string> ChecksumAlgorithms => _context.Capabilities.ChecksumAlgorithms;

    /// <summary>The options in force.</summary>
    public TusOptions Options => _context.Options;

    /// <summary>Handles one request. Never throws for anything a client sends; an unexpected failure becomes a 500.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The response to write; when it has a <see cref="TusResponse.BodyStream"/>, the caller disposes it.</returns>
    public ValueTask<TusResponse> HandleAsync(TusRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Both dialects are measured and traced alike: the telemetry wraps the choice between them.
        return Diagnostics.RequestTelemetry.HandleAsync(_context, request);
    }

    /// <summary>Releases the engine's timers and stops its post-hooks (those still queued are dropped). Requests still
    /// running finish; their store calls are then bounded only by the store-call timeout.</summary>
    public void Dispose() => _context.Dispose();

    /// <summary>Lets the queued post-hook events run, until <paramref name="cancellationToken"/> fires (then those left
    /// are dropped). The host calls it on shutdown.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    public Task DrainHooksAsync(CancellationToken cancellationToken) => _context.Hooks.DrainAsync(cancellationToken);

    internal HookRunner Hooks => _context.Hooks;

    /// <summary>Removes every expired unfinished upload that no request holds right now (it never interrupts one).</summary>
    /// <param name="cancellationToken">Ends the sweep early.</param>
    /// <returns>How many uploads were removed; 0 when expiration is off.</returns>
    public ValueTask<int> RemoveExpiredUploadsAsync(CancellationToken cancellationToken) =>
        ExpiredUploadSweeper.SweepAsync(_context, cancellationToken);
}
