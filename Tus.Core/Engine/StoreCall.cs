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
    private readonly TimeSpan _limit;
    private readonly CancellationToken _hardStop;
    private readonly CancellationToken _leaseLost;

    public StoreCall(EngineContext context, TimeSpan limit, CancellationToken clientGone, CancellationToken leaseLost)
    {
        _limit = limit;
        _hardStop = context.HardStop;
        _leaseLost = leaseLost;
        _timeout = new CancellationTokenSource(limit, context.Time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, context.HardStop, clientGone, leaseLost);
    }

    /// <summary>The token to hand the store.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>Stops the clock while the store waits for the client (an append reading a slow body).</summary>
    public void Pause()
    {
        if (!_timeout.IsCancellationRequested)
        {
            _timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gives the store the whole limit again from now (it made progress).</summary>
    public void Restart()
    {
        if (!_timeout.IsCancellationRequested)
        {
            _timeout.CancelAfter(_limit);
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
        _linked.Dispose();
        _timeout.Dispose();
    }
}

/// <summary>A store call the engine gave up on; answered with <see cref="TusStoreException.Error"/> like any coded store failure.</summary>
internal sealed class StoreCallAbandonedException(TusError error, Exception innerException)
    : TusStoreException(error, $"A store call was abandoned: {error.Code}.", innerException);
