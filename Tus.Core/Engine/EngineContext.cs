using Microsoft.Extensions.Logging;
using Tus.Hooks;
using Tus.Locking;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>Everything the method handlers share: configured parts, derived capabilities, the shutdown signal.</summary>
internal sealed class EngineContext : IDisposable
{
    private readonly CancellationTokenSource _hardStop;
    private readonly CancellationTokenRegistration _stoppingRegistration;

    public EngineContext(ITusStore store, ITusLocker locker, TusOptions options, TimeProvider time, ILogger logger, IEnumerable<ITusHook> hooks, CancellationToken serverStopping)
    {
        // Seen through wrappers that time and trace every call (Diagnostics/), so the handlers need no instrumentation.
        Store = new Diagnostics.ObservedStore(store, time);
        Locker = new Diagnostics.ObservedLocker(locker, time);
        Options = options;
        Time = time;
        Logger = logger;
        ServerStopping = serverStopping;
        Capabilities = new EngineCapabilities(Store, options);
        Cors = new CorsPolicy(options.Cors);
        _hardStop = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        var grace = options.ShutdownGracePeriod;
        _stoppingRegistration = serverStopping.UnsafeRegister(static (state, _) =>
        {
            var (hardStop, grace) = ((CancellationTokenSource, TimeSpan))state!;
            try
            {
                hardStop.CancelAfter(grace);
            }
            catch (ObjectDisposedException)
            {
                // The engine is gone already.
            }
        }, (_hardStop, grace));
        Hooks = new HookRunner(this, hooks);
    }

    /// <summary>Runs the registered hooks.</summary>
    public HookRunner Hooks { get; }

    /// <summary>Fires <see cref="TusOptions.ShutdownGracePeriod"/> after <see cref="ServerStopping"/>: store calls still running then are abandoned.</summary>
    public CancellationToken HardStop => _hardStop.Token;

    /// <summary>Starts a store call bounded by <see cref="TusOptions.StoreCallTimeout"/> and the hard stop.</summary>
    /// <param name="clientGone">The request's abort signal, for calls that only serve the client (lookups, creation);
    /// <see langword="default"/> for calls that must finish what a write began.</param>
    /// <param name="leaseLost">The held lock's <see cref="ITusLock.Lost"/>, for calls made under it.</param>
    public StoreCall StoreCall(CancellationToken clientGone, CancellationToken leaseLost = default) =>
        new(this, Options.StoreCallTimeout, clientGone, leaseLost);

    public void Dispose()
    {
        Hooks.Dispose();
        _stoppingRegistration.Dispose();
        _hardStop.Dispose();
    }

    public ITusStore Store { get; }

    public ITusLocker Locker { get; }

    public TusOptions Options { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public CancellationToken ServerStopping { get; }

    public EngineCapabilities Capabilities { get; }

    public CorsPolicy Cors { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>The expiry a write at <paramref name="now"/> gives an upload, or <see langword="null"/> when uploads don't expire.</summary>
    public DateTimeOffset? ExpiryFrom(DateTimeOffset now) =>
        Capabilities.Expiration is not null && Options.Expiration is { } lifetime ? now + lifetime : null;
}

/// <summary>
/// The one place where the tus extensions on offer are derived from what the store declares and what the options enable.
/// </summary>
internal sealed class EngineCapabilities
{
    public static readonly IReadOnlyList<string> SupportedChecksumAlgorithms = ["md5", "sha1", "sha256", "sha512"];

    public EngineCapabilities(ITusStore store, TusOptions options)
    {
        Termination = options.EnableTermination ? store.Termination : null;
        Concatenation = options.EnableConcatenation ? store.Concatenation : null;
        ConcatenationUnfinished = Concatenation is not null && options.EnableConcatenationUnfinished;
        DeferredLength = options.EnableDeferredLength ? store.DeferredLength : null;
        // The sweep finds expired uploads through the listing, so expiration is served only with both.
        Expiration = options.Expiration is not null && store.Listing is not null ? store.Expiration : null;
        Checksum = options.EnableChecksum ? store.Checksum : null;
        Download = options.EnableDownload;

        var extensions = new List<string> { "creation", "creation-with-upload" };
        AddIf(extensions, DeferredLength is not null, "creation-defer-length");
        AddIf(extensions, Termination is not null, "termination");
        AddIf(extensions, Concatenation is not null, "concatenation");
        AddIf(extensions, ConcatenationUnfinished, "concatenation-unfinished");
        AddIf(extensions, Expiration is not null, "expiration");
        AddIf(extensions, Checksum is not null, "checksum");
        AddIf(extensions, Checksum is not null, "checksum-trailer");
        Extensions = extensions;
        ExtensionsHeader = string.Join(',', extensions);
        ChecksumAlgorithms = Checksum is not null ? SupportedChecksumAlgorithms : [];
        ChecksumAlgorithmsHeader = string.Join(',', ChecksumAlgorithms);
    }

    public ITusTerminationStore? Termination { get; }

    public ITusConcatenationStore? Concatenation { get; }

    public bool ConcatenationUnfinished { get; }

    public ITusDeferredLengthStore? DeferredLength { get; }

    public ITusExpirationStore? Expiration { get; }

    public ITusChecksumStore? Checksum { get; }

    public bool Download { get; }

    public IReadOnlyList<string> Extensions { get; }

    public string ExtensionsHeader { get; }

    public IReadOnlyList<string> ChecksumAlgorithms { get; }

    public string ChecksumAlgorithmsHeader { get; }

    private static void AddIf(List<string> list, bool condition, string extension)
    {
        if (condition)
        {
            list.Add(extension);
        }
    }
}
