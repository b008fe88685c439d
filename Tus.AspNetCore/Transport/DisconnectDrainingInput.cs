using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Tus.AspNetCore.Transport;

/// <summary>
/// The connection's input as Kestrel's HTTP parser sees it: every byte the transport received is handed out before the
/// end of the connection is reported.
/// </summary>
/// <remarks>
/// When a client closes or half-closes its socket, the transport completes its input pipe with the last bytes still in
/// it. Kestrel's content-length body then throws on the read that shows the completion, discarding whatever that read
/// carried, and the transport signals <c>ConnectionClosed</c> at once, which aborts the request while the application
/// still has bytes to read. Here the completion stays hidden until the reader has examined every byte, and the closed
/// signal waits until then, or until the reader stops reading for the drain timeout (an application that does not read
/// its body still learns that the client went away).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The closed token is handed to Kestrel, which may still hold registrations on it after the connection ends; an armed drain timer releases itself when it fires.")]
internal sealed class DisconnectDrainingInput : PipeReader
{
    private readonly PipeReader _inner;
    private readonly CancellationTokenSource _closed;
    private readonly TimeSpan _drainTimeout;
    private ReadOnlySequence<byte> _lastBuffer;
    private bool _lastHidCompletion;
    private bool _examinedEverything;
    private volatile bool _transportClosed;
    private int _closeSignalled;

    public DisconnectDrainingInput(PipeReader inner, TimeSpan drainTimeout, TimeProvider time)
    {
        _inner = inner;
        _drainTimeout = drainTimeout;
        _closed = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
    }

    /// <summary>Fires once the reader has seen the end of the input, or the drain timeout passed without it reading.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>The transport saw the connection end; bytes may still wait in the pipe.</summary>
    public void OnTransportClosed()
    {
        _transportClosed = true;
        _closed.CancelAfter(_drainTimeout);
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<ReadResult> pending;
        try
        {
            pending = _inner.ReadAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SignalClosed();
            throw;
        }

        // Most reads of a busy connection complete at once: no state machine for those.
        return pending.IsCompletedSuccessfully ? new ValueTask<ReadResult>(Filter(pending.Result)) : AwaitReadAsync(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitReadAsync(ValueTask<ReadResult> pending)
    {
        ReadResult result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A reset or an abort: what the transport held is gone with the error, nothing is left to drain.
            SignalClosed();
            throw;
        }

        return Filter(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        bool read;
        try
        {
            read = _inner.TryRead(out result);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SignalClosed();
            throw;
        }

        if (read)
        {
            result = Filter(result);
        }

        return read;
    }

    private ReadResult Filter(ReadResult result)
    {
        var hide = result.IsCompleted && !result.IsCanceled && !result.Buffer.IsEmpty && !(_lastHidCompletion && _examinedEverything);
        _lastBuffer = result.Buffer;
        _lastHidCompletion = hide;
        _examinedEverything = false;
        if (hide)
        {
            return new ReadResult(result.Buffer, isCanceled: false, isCompleted: false);
        }

        if (result.IsCompleted)
        {
            SignalClosed();
        }

        return result;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        // Compared before the inner AdvanceTo, which may return the buffer's segments to the pool.
        _examinedEverything = examined.Equals(_lastBuffer.End);
        var progressed = !consumed.Equals(_lastBuffer.Start);
        _lastBuffer = default;
        _inner.AdvanceTo(consumed, examined);
        if (progressed && _transportClosed)
        {
            // Still draining: the reader keeps its time for as long as it makes progress.
            _closed.CancelAfter(_drainTimeout);
        }
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        _inner.Complete(exception);
        SignalClosed();
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        SignalClosed();
        return _inner.CompleteAsync(exception);
    }

    private void SignalClosed()
    {
        if (Interlocked.Exchange(ref _closeSignalled, 1) == 0)
        {
            // Off the reading thread: Kestrel's abort handling must not run inside the read that reported the end.
            ThreadPool.UnsafeQueueUserWorkItem(static source => source.Cancel(), _closed, preferLocal: false);
        }
    }
}
