using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tus.Locking;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>Everything the method handlers share: configured parts, derived capabilities, the shutdown signal.</summary>
internal sealed class EngineContext
{
    public EngineContext(ITusStore store, ITusLocker locker, TusOptions options, TimeProvider time, ILogger logger, CancellationToken serverStopping)
    {
        Store = store;
        Locker = locker;
        Options = options;
        Time = time;
        Logger = logger;
        ServerStopping = serverStopping;
        Capabilities = new EngineCapabilities(store, options);
        Cors = new CorsPolicy(options.Cors);
    }

    public ITusStore Store { get; }

    public ITusLocker Locker { get; }

    public TusOptions Options { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public CancellationToken ServerStopping { get; }

    public EngineCapabilities Capabilities { get; }

    public CorsPolicy Cors { get; }

    /// <summary>Uploads with a request body streaming in this process right now; the expiration sweep leaves them alone.</summary>
    public ConcurrentDictionary<string, byte> Writing { get; } = new(StringComparer.Ordinal);

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
        Expiration = options.Expiration is not null ? store.Expiration : null;
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
