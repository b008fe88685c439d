using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tus.Locking;
using Tus.Stores.Internal;

namespace Tus.Stores;

/// <summary>
/// A storage quota around any store: it caps the total bytes of uploads, and optionally the size of one upload and the
/// number of unfinished uploads, refusing what does not fit with <see cref="QuotaExceededException"/> (413
/// <c>ERR_QUOTA_EXCEEDED</c>). It never deletes a finished upload or one in progress; an optional policy
/// (<see cref="QuotaOptions.ReclaimAfter"/>) reclaims room from abandoned unfinished uploads only.
/// </summary>
/// <remarks>
/// <para>It offers exactly the capabilities of the store it wraps: each capability property returns this wrapper when
/// the wrapped store has that capability and <see langword="null"/> when it has not, so <c>Tus-Extension</c> is unchanged.</para>
/// <para>The accounting lives in this process and is rebuilt from the wrapped store's listing before the first change
/// (<see cref="InitializeAsync"/>; <c>.WithQuota(...)</c> runs it at start-up), so a restart neither leaks nor forgets.
/// The wrapped store must offer listing.</para>
/// </remarks>
public sealed partial class LimitedStore : ITusStore, ITusQuota, IAsyncDisposable
{
    private static readonly TimeSpan HelperCallTimeout = TimeSpan.FromSeconds(30);

    private readonly ITusStore _inner;
    private readonly TimeProvider _time;
    private readonly ITusLocker? _locker;
    private readonly ILogger _logger;
    private readonly long? _maxTotalBytes;
    private readonly long? _maxUploadBytes;
    private readonly int? _maxUnfinished;
    private readonly TimeSpan? _reclaimAfter;
    private readonly TimeSpan? _resyncInterval;
    private readonly SemaphoreSlim _reclaimGate = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly object _readyGate = new();
    private readonly bool _ownsInner;
    private Task? _ready;
    private Task? _resync;
    private long _lastResyncUtcTicks;

    /// <summary>Wraps a store with a quota that never reclaims (<see cref="QuotaOptions.ReclaimAfter"/> must be unset).</summary>
    /// <param name="inner">The store that keeps the uploads; it must offer listing. The caller keeps owning it.</param>
    /// <param name="options">The limits; read once, here.</param>
    /// <param name="timeProvider">The clock.</param>
    public LimitedStore(ITusStore inner, QuotaOptions options, TimeProvider timeProvider)
        : this(inner, options, timeProvider, locker: null, logger: null)
    {
    }

    /// <summary>Wraps a store with a quota.</summary>
    /// <param name="inner">The store that keeps the uploads; it must offer listing. The caller keeps owning it.</param>
    /// <param name="options">The limits; read once, here.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="locker">The locker the engine uses: the reclaim policy takes an upload's lock (without waiting) before
    /// deleting it, so that it never touches one in progress. Required when <see cref="QuotaOptions.ReclaimAfter"/> is set.</param>
    /// <param name="logger">Where refusals, rebuilds and reclaimed uploads are logged; <see langword="null"/> for nowhere.</param>
    public LimitedStore(ITusStore inner, QuotaOptions options, TimeProvider timeProvider, ITusLocker? locker, ILogger? logger)
        : this(inner, options, timeProvider, locker, logger, ownsInner: false)
    {
    }

    internal LimitedStore(ITusStore inner, QuotaOptions options, TimeProvider timeProvider, ITusLocker? locker, ILogger? logger, bool ownsInner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        if (options.ReclaimAfter is not null && locker is null)
        {
            throw new ArgumentException($"{nameof(QuotaOptions)}.{nameof(QuotaOptions.ReclaimAfter)} needs the engine's locker, so that an upload in progress is never reclaimed.", nameof(locker));
        }

        _inner = inner;
        _time = timeProvider;
        _locker = locker;
        _logger = logger ?? NullLogger.Instance;
        _maxTotalBytes = options.MaxTotalBytes;
        _maxUploadBytes = options.MaxUploadBytes;
        _maxUnfinished = options.MaxUnfinishedUploads;
        _reclaimAfter = options.ReclaimAfter;
        _resyncInterval = options.ResyncInterval;
        _ownsInner = ownsInner;
        Ledger = new QuotaLedger(options.MaxTotalBytes, options.MaxUnfinishedUploads, options.CountFinishedUploads);
    }

    /// <summary>The wrapped store.</summary>
    public ITusStore InnerStore => _inner;

    internal QuotaLedger Ledger { get; }

    /// <inheritdoc />
    public ITusTerminationStore? Termination => _inner.Termination is null ? null : this;

    /// <inheritdoc />
    public ITusConcatenationStore? Concatenation => _inner.Concatenation is null ? null : this;

    /// <inheritdoc />
    public ITusDeferredLengthStore? DeferredLength => _inner.DeferredLength is null ? null : this;

    /// <inheritdoc />
    public ITusExpirationStore? Expiration => _inner.Expiration is null ? null : this;

    /// <inheritdoc />
    public ITusChecksumStore? Checksum => _inner.Checksum is null ? null : this;

    /// <inheritdoc />
    /// <remarks>Listing changes nothing, so the wrapped store's own listing is handed out.</remarks>
    public ITusListingStore? Listing => _inner.Listing;

    /// <inheritdoc />
    public QuotaUsage GetUsage() => Ledger.Usage();

    /// <summary>
    /// Rebuilds the accounting from the wrapped store's listing, once; later calls wait for that rebuild (or retry one
    /// that failed). Every call that changes an upload waits for it too, so calling it is optional: <c>.WithQuota(...)</c>
    /// calls it at start-up to fail early and to have the accounting ready before the first request.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the rebuild itself goes on for the next caller.</param>
    /// <exception cref="InvalidOperationException">The wrapped store cannot list its uploads.</exception>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        Task ready;
        lock (_readyGate)
        {
            if (_ready is null || _ready.IsFaulted || _ready.IsCanceled)
            {
                _ready = RebuildAsync(_lifetime.Token);
            }

            ready = _ready;
        }

        await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        MaybeResync();
        if (_maxUploadBytes is { } maxOne && upload.Length > maxOne)
        {
            throw Refuse("creation", upload.Id, $"its length of {upload.Length} bytes is above the largest upload allowed ({maxOne} bytes)");
        }

        var planned = new UploadInfo { Id = upload.Id, Length = upload.Length, CreatedAt = upload.CreatedAt };
        var charge = Ledger.ChargeOf(planned);
        var unfinished = !planned.IsComplete;
        var refusal = Ledger.TryReserveNew(upload.Id, charge, unfinished, Now, out var reserved);
        if (refusal != Refusal.None &&
            await ReclaimAsync(charge, refusal == Refusal.UnfinishedUploads, exceptId: null, cancellationToken).ConfigureAwait(false))
        {
            refusal = Ledger.TryReserveNew(upload.Id, charge, unfinished, Now, out reserved);
        }

        if (refusal != Refusal.None)
        {
            throw Refuse("creation", upload.Id, refusal == Refusal.UnfinishedUploads
                ? $"{_maxUnfinished} uploads are unfinished already, the most allowed"
                : $"its {charge} bytes do not fit in the {Free()} bytes left of {_maxTotalBytes}");
        }

        UploadInfo created;
        try
        {
            created = await _inner.CreateAsync(upload, cancellationToken).ConfigureAwait(false);
        }
        catch when (reserved)
        {
            Ledger.Remove(upload.Id);
            throw;
        }

        if (reserved)
        {
            Ledger.CreationStored(upload.Id);
        }

        return created;
    }

    /// <inheritdoc />
    /// <remarks>Lookups change nothing and go straight to the wrapped store.</remarks>
    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) => _inner.GetAsync(uploadId, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// An upload with a known length reserved all of it at creation, so its bytes pass straight through. An upload whose
    /// length is deferred reserves as it grows: the store is handed only bytes already reserved, and when no more can be
    /// reserved the body ends there for the store (which keeps what it got) and the call throws
    /// <see cref="QuotaExceededException"/>; the engine then answers 413 with the offset the store kept.
    /// </remarks>
    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(data);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        if (!upload.IsLengthDeferred)
        {
            long appended;
            try
            {
                appended = await _inner.AppendAsync(upload, data, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await SettleAfterFailureAsync(upload, upload, inFlight: 0).ConfigureAwait(false);
                throw;
            }

            Ledger.Settle(upload with { Offset = upload.Offset + appended }, 0, Now);
            MaybeResync();
            return appended;
        }

        var cap = _maxUploadBytes is { } maxOne ? Math.Max(0, maxOne - upload.Offset) : long.MaxValue;
        var limited = new QuotaLimitedStream(data, this, upload, cap);
        long written;
        try
        {
            written = await _inner.AppendAsync(upload, limited, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // At most what the store was handed can have been kept: charged so until the store says otherwise.
            await SettleAfterFailureAsync(upload, upload with { Offset = upload.Offset + limited.Passed }, limited.Granted).ConfigureAwait(false);
            throw;
        }

        Ledger.Settle(upload with { Offset = upload.Offset + written }, limited.Granted, Now);
        MaybeResync();
        if (limited.Refused)
        {
            throw Refuse("growth", upload.Id, upload.Offset + written >= (_maxUploadBytes ?? long.MaxValue)
                ? $"the upload reached the largest size allowed ({_maxUploadBytes} bytes)"
                : $"the quota of {_maxTotalBytes} bytes is used up after {written} bytes of this request were stored");
        }

        return written;
    }

    /// <inheritdoc />
    public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken) =>
        _inner.OpenReadAsync(upload, offset, length, cancellationToken);

    /// <summary>Stops a resync running in the background and disposes the wrapped store if <c>.WithQuota(...)</c> created it.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_lifetime.IsCancellationRequested)
        {
            return;
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        if (_resync is { } resync)
        {
            await resync.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_ready is { } ready)
        {
            await ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_ownsInner)
        {
            if (_inner is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (_inner is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }

        _lifetime.Dispose();
        _reclaimGate.Dispose();
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private ValueTask EnsureReadyAsync(CancellationToken cancellationToken) =>
        _ready is { IsCompletedSuccessfully: true } ? ValueTask.CompletedTask : InitializeAsync(cancellationToken);

    private long Free()
    {
        var usage = Ledger.Usage();
        return _maxTotalBytes is { } max ? Math.Max(0, max - usage.UsedBytes) : long.MaxValue;
    }

    private QuotaExceededException Refuse(string what, string uploadId, string reason)
    {
        Log.Refused(_logger, what, uploadId, reason);
        return new QuotaExceededException($"Quota refused the {what} of upload '{uploadId}': {reason}.");
    }

    /// <summary>
    /// After a failed write the store alone knows what it kept: it is asked (bounded by a limit of its own, since the
    /// write's token may have fired), and if it cannot answer the upload stays charged for <paramref name="upperBound"/>.
    /// </summary>
    private async ValueTask SettleAfterFailureAsync(UploadInfo upload, UploadInfo upperBound, long inFlight)
    {
        UploadInfo? stored = upperBound;
        try
        {
            using var limit = new CancellationTokenSource(HelperCallTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, _lifetime.Token);
            stored = await _inner.GetAsync(upload.Id, linked.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The write's own failure is what the caller sees; this lookup only refines the charge.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.SettleLookupFailed(_logger, exception, upload.Id);
        }

        if (stored is null)
        {
            Ledger.Remove(upload.Id);
        }
        else
        {
            Ledger.Settle(stored, inFlight, Now);
        }
    }

    private async Task RebuildAsync(CancellationToken cancellationToken)
    {
        if (_inner.Listing is null)
        {
            throw new InvalidOperationException(
                $"The quota rebuilds its accounting from the wrapped store's listing, and {_inner.GetType().Name} cannot list its uploads (ITusStore.Listing is null).");
        }

        // Off the caller's synchronization context, and never inline in a lock.
        await Task.Yield();
        await ResyncCoreAsync(initial: true, cancellationToken).ConfigureAwait(false);
        var usage = Ledger.Usage();
        Log.Rebuilt(_logger, usage.Uploads, usage.UnfinishedUploads, usage.UsedBytes);
    }

    private async Task ResyncCoreAsync(bool initial, CancellationToken cancellationToken)
    {
        var start = Ledger.BeginResync();
        try
        {
            var listed = new List<ListedUpload>();
            await foreach (var upload in _inner.Listing!.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                if (upload is not null)
                {
                    listed.Add(new ListedUpload(upload.Id, Ledger.ChargeOf(upload), !upload.IsComplete, upload.Offset, upload.CreatedAt));
                }
            }

            Ledger.CompleteResync(listed, start, Now, initial);
            Volatile.Write(ref _lastResyncUtcTicks, Now.UtcTicks);
        }
        catch
        {
            Ledger.AbandonResync();
            throw;
        }
    }

    /// <summary>With several instances, starts a rebuild in the background once the interval has passed.</summary>
    private void MaybeResync()
    {
        if (_resyncInterval is not { } interval || Now.UtcTicks - Volatile.Read(ref _lastResyncUtcTicks) < interval.Ticks)
        {
            return;
        }

        lock (_readyGate)
        {
            if (_resync is { IsCompleted: false } || _lifetime.IsCancellationRequested)
            {
                return;
            }

            Volatile.Write(ref _lastResyncUtcTicks, Now.UtcTicks);
            _resync = Task.Run(async () =>
            {
                try
                {
                    await ResyncCoreAsync(initial: false, _lifetime.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
                {
                }
#pragma warning disable CA1031 // A failed resync keeps the accounting as it was; the next one tries again.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    Log.ResyncFailed(_logger, exception);
                }
            });
        }
    }
}
