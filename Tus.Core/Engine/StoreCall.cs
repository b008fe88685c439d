using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>
/// The token one store call runs under, and why it fired: the store-call timeout, the host's shutdown after its grace
/// period, the loss of the upload's lease, or (for calls a client may cancel) the client going away. No store call runs
/// on <see cref="CancellationToken.None"/>: over a network that would hold the request and the upload's lock forever.
/// </summary>
internal sealed class StoreCall : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _hardStop;
    private readonly CancellationToken _leaseLost;

    // Sliding calls only (appends, read-backs): progress is stamped on every read, which is far cheaper than moving a
    // timer each time, and a coarse timer compares the stamp with the limit.
    private readonly TimeProvider? _time;
    private readonly TimeSpan _limit;
    private readonly ITimer? _watch;
    private long _lastProgress;
    private volatile bool _paused;

    /// <summary>Starts a call.</summary>
    /// <param name="context">The engine.</param>
    /// <param name="limit">How long the call may take, or, when <paramref name="sliding"/>, go without progress.</param>
    /// <param name="clientGone">The request's abort signal, or <see langword="default"/> for calls that must finish.</param>
    /// <param name="leaseLost">The held lock's <see cref="Locking.ITusLock.Lost"/>, or <see langword="default"/>.</param>
    /// <param name="sliding">Whether <see cref="Pause"/> and <see cref="Restart"/> move the limit (progress-based).</param>
    public StoreCall(EngineContext context, TimeSpan limit, CancellationToken clientGone, CancellationToken leaseLost, bool sliding = false)
    {
        _hardStop = context.HardStop;
        _leaseLost = leaseLost;
        _limit = limit;
        if (sliding)
        {
            _time = context.Time;
            _lastProgress = _time.GetTimestamp();
            _timeout = new CancellationTokenSource();
            var period = limit / 8 > TimeSpan.FromMilliseconds(10) ? limit / 8 : TimeSpan.FromMilliseconds(10);
            _watch = _time.CreateTimer(static state => ((StoreCall)state!).CheckProgress(), this, period, period);
        }
        else
        {
            _timeout = new CancellationTokenSource(limit, context.Time);
        }

        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, context.HardStop, clientGone, leaseLost);
    }

    /// <summary>The token to hand the store.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>Stops the clock while the store waits for the client (an append reading a slow body).</summary>
    public void Pause() => _paused = true;

    /// <summary>Gives the store the whole limit again from now (it made progress).</summary>
    public void Restart()
    {
        if (_time is not null)
        {
            Volatile.Write(ref _lastProgress, _time.GetTimestamp());
            _paused = false;
        }
    }

    private void CheckProgress()
    {
        if (!_paused && _time!.GetElapsedTime(Volatile.Read(ref _lastProgress)) >= _limit)
        {
            try
            {
                _timeout.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The call ended meanwhile.
            }
        }
    }

    /// <summary>Why the token fired, as the error to answer; <see langword="null"/> when it did not fire for a reason of ours
    /// (the client went away: the caller answers that as it always does).</summary>
    public TusError? Reason() =>
        _leaseLost.IsCancellationRequested ? TusError.LockLost
        : _hardStop.IsCancellationRequested ? TusError.ServerShutdown
        : _timeout.IsCancellationRequested ? TusError.StoreTimeout
        : null;

    /// <summary>Awaits a store call made with <see cref="Token"/>, turning its cancellation into the error that explains it.</summary>
    public async ValueTask<T> Await<T>(ValueTask<T> pending)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (Reason() is { } error)
        {
            throw new StoreCallAbandonedException(error, exception);
        }
    }

    /// <summary>
    /// Awaits a lookup (a call that changes nothing), giving up when <see cref="Token"/> fires even if the store ignores
    /// it: abandoning a read cannot break the lock's exclusivity, and it frees the request and the lock. Calls that change
    /// the upload are awaited to their end instead (<see cref="Await{T}(ValueTask{T})"/>): the lock must not pass on while
    /// one may still be writing.
    /// </summary>
    public ValueTask<T> AwaitLookup<T>(ValueTask<T> pending) =>
        pending.IsCompleted ? Await(pending) : Await(new ValueTask<T>(pending.AsTask().WaitAsync(Token)));

    /// <inheritdoc cref="Await{T}(ValueTask{T})"/>
    public async ValueTask Await(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (Reason() is { } error)
        {
            throw new StoreCallAbandonedException(error, exception);
        }
    }

    public void Dispose()
    {
        _watch?.Dispose();
        _linked.Dispose();
        _timeout.Dispose();
    }
}

/// <summary>A store call the engine gave up on; answered with <see cref="TusStoreException.Error"/> like any coded store failure.</summary>
internal sealed class StoreCallAbandonedException(TusError error, Exception innerException)
    : TusStoreException(error, $"A store call was abandoned: {error.Code}.", innerException);
