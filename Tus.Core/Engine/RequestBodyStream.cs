using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>Why a request body stopped flowing to the store.</summary>
internal enum BodyEnd
{
    /// <summary>Still flowing, or the store stopped reading before the end.</summary>
    None,

    /// <summary>The client sent its whole body.</summary>
    Completed,

    /// <summary>The bytes the upload may take were all passed on; whether more follow is not known yet.</summary>
    LimitReached,

    /// <summary>More bytes followed the allowed ones; they were not stored.</summary>
    Overflow,

    /// <summary>The client went silent for longer than the read timeout.</summary>
    TimedOut,

    /// <summary>The connection broke off.</summary>
    Disconnected,

    /// <summary>Another request asked for the upload.</summary>
    Interrupted,

    /// <summary>The lock's lease was lost.</summary>
    LeaseLost,

    /// <summary>The server is shutting down.</summary>
    ServerStopping,
}

/// <summary>
/// The request body as the store sees it: capped at the bytes the upload may take, hashed on the way when a checksum is
/// expected, and ending cleanly (a read returns 0) whatever stops it: the end of the body, a silent client, a broken
/// connection, a release request, a lost lease or shutdown. <see cref="End"/> tells which, afterwards.
/// </summary>
/// <remarks>
/// With a checksum expected, the body is verified where it ends, before the store sees that end: when the bytes cannot
/// be vouched for (a mismatch, a missing or invalid trailer, a body cut short or running over), the read that would
/// return 0 throws <see cref="ChecksumMismatchException"/> instead, and so does every read after it, so that a store
/// can avoid committing them. <see cref="ChecksumFailure"/> tells the engine, whatever the store made of it.
/// </remarks>
internal sealed class RequestBodyStream : Stream
{
    private readonly PipeReader _reader;
    private readonly BodyChecksum? _checksum;
    private readonly TimeSpan _readTimeout;
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _stop;
    private readonly CancellationToken _aborted;
    private readonly CancellationToken _releaseRequested;
    private readonly CancellationToken _leaseLost;
    private readonly CancellationToken _serverStopping;
    private readonly StoreCall? _storeCall;
    private long _remaining;

    public RequestBodyStream(
        PipeReader reader,
        long limit,
        BodyChecksum? checksum,
        TimeSpan readTimeout,
        TimeProvider time,
        CancellationToken aborted,
        CancellationToken releaseRequested,
        CancellationToken leaseLost,
        CancellationToken serverStopping,
        StoreCall? storeCall = null)
    {
        _storeCall = storeCall;
        _reader = reader;
        _remaining = limit;
        _checksum = checksum;
        _readTimeout = readTimeout;
        _aborted = aborted;
        _releaseRequested = releaseRequested;
        _leaseLost = leaseLost;
        _serverStopping = serverStopping;
        _deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _stop = CancellationTokenSource.CreateLinkedTokenSource([_deadline.Token, aborted, leaseLost, serverStopping]);

        // A release request ends a stale body promptly, except when its client has already finished sending: then the
        // rest of the body is at the server already, reading it takes no network time, and it is kept. (A client whose
        // connection broke asks for the offset at once on a new one; its HEAD would otherwise throw those bytes away.)
        _releaseRegistration = releaseRequested.UnsafeRegister(
            static state =>
            {
                var body = (RequestBodyStream)state!;
                if (!body.ClientFinishedSending.IsCancellationRequested)
                {
                    body._stop.Cancel();
                }
            },
            this);

        // A stop wakes a pending read with CancelPendingRead, never with a token passed to ReadAsync: Kestrel's request
        // body reader stays "reading" after a read cancelled by its token (it resets that state only for a result), so
        // its own drain at the end of the request then fails with "Reading is already in progress" and logs an error.
        _stopRegistration = _stop.Token.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), reader);
    }

    /// <summary>Fires when the client has finished sending (see <see cref="Http.TusRequest.ClientFinishedSending"/>).</summary>
    public CancellationToken ClientFinishedSending { get; init; }

    private readonly CancellationTokenRegistration _stopRegistration;
    private readonly CancellationTokenRegistration _releaseRegistration;

    /// <summary>How many bytes were passed on.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Why the body stopped.</summary>
    public BodyEnd End { get; private set; }

    /// <summary>
    /// Once the body was verified against its checksum: <see langword="null"/> when it matched (or none was expected),
    /// otherwise the error for a complete body (a mismatch, or a missing or invalid trailer; a body that did not end
    /// complete fails with <see cref="TusError.ChecksumMismatch"/>).
    /// </summary>
    public TusError? ChecksumFailure { get; private set; }

    private bool _verified;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var segment = await NextAsync(cancellationToken).ConfigureAwait(false);
        if (segment.IsEmpty)
        {
            return 0;
        }

        var count = (int)Math.Min(segment.Length, buffer.Length);
        var slice = segment.Slice(0, count);
        slice.CopyTo(buffer.Span);
        Consume(slice);
        return count;
    }

    /// <summary>
    /// Writes the body into <paramref name="destination"/>. Network buffers arrive in small segments (4 KiB in Kestrel), so
    /// they are gathered into one pooled 64 KiB buffer per request and written in large blocks: one system call per block rather
    /// than per segment. A large contiguous segment is written as it is, with no copy.
    /// </summary>
    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var block = ArrayPool<byte>.Shared.Rent(CoalescingBlockSize);
        var filled = 0;
        try
        {
            while (true)
            {
                var segment = await NextAsync(cancellationToken).ConfigureAwait(false);
                if (segment.IsEmpty)
                {
                    break;
                }

                if (filled == 0 && segment.IsSingleSegment && segment.Length >= CoalescingBlockSize / 2)
                {
                    await WriteAsync(destination, segment.First, segment, cancellationToken).ConfigureAwait(false);
                    Consume(segment);
                    continue;
                }

                // Everything about a sequence is read before Consume: advancing the pipe recycles its segments.
                var taken = segment.Slice(0, Math.Min(segment.Length, block.Length - filled));
                var takenLength = (int)taken.Length;
                taken.CopyTo(block.AsSpan(filled));
                Consume(taken);
                filled += takenLength;
                if (filled == block.Length)
                {
                    await destination.WriteAsync(block.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                    filled = 0;
                }
            }

            // The body ended: what was gathered is written, so the store keeps every byte that arrived. Except after a lost
            // lease: exclusive access is gone, so nothing more goes to the store (whether this write happened used to
            // depend on which of the lease's callbacks ran first).
            if (filled > 0 && End != BodyEnd.LeaseLost)
            {
                await destination.WriteAsync(block.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    // Below the large object heap's threshold (85,000 bytes): with many concurrent uploads the shared pool runs dry and
    // the extra blocks are fresh arrays, which then die young in gen0 instead of piling up in the LOH until a full GC.
    private const int CoalescingBlockSize = 64 * 1024;

    private async ValueTask WriteAsync(Stream destination, ReadOnlyMemory<byte> memory, ReadOnlySequence<byte> segment, CancellationToken cancellationToken)
    {
        try
        {
            await destination.WriteAsync(memory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Leave the pipe readable; what the destination did take is the store's to account for.
            _reader.AdvanceTo(segment.Start);
            End = End == BodyEnd.None ? BodyEnd.Interrupted : End;
            throw;
        }
    }

    /// <summary>
    /// After the store stopped reading at the limit, finds out whether the body really ended there
    /// (<see cref="BodyEnd.Completed"/>) or went on (<see cref="BodyEnd.Overflow"/>). With a checksum expected, the body
    /// is then verified, if the store's reads did not get that far (<see cref="ChecksumFailure"/>); this never throws
    /// <see cref="ChecksumMismatchException"/>.
    /// </summary>
    public async ValueTask ProbeEndAsync()
    {
        await ProbeAsync(CancellationToken.None).ConfigureAwait(false);
        if (_checksum is not null)
        {
            VerifyOnce();
        }
    }

    private async ValueTask ProbeAsync(CancellationToken cancellationToken)
    {
        if (End is not (BodyEnd.LimitReached or BodyEnd.None))
        {
            return;
        }

        var wasLimit = End == BodyEnd.LimitReached;
        var result = await ReadPipeAsync(cancellationToken).ConfigureAwait(false);
        if (result is not { } read)
        {
            return;
        }

        if (read.Buffer.IsEmpty && read.IsCompleted)
        {
            _reader.AdvanceTo(read.Buffer.End);
            End = BodyEnd.Completed;
        }
        else
        {
            _reader.AdvanceTo(read.Buffer.Start);
            End = wasLimit ? BodyEnd.Overflow : BodyEnd.None;
        }
    }

    /// <summary>Hands out the buffered bytes the caller may take next, or an empty sequence when the body stops.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlySequence<byte>> NextAsync(CancellationToken cancellationToken)
    {
        if (ChecksumFailure is not null)
        {
            throw new ChecksumMismatchException();
        }

        if (End != BodyEnd.None)
        {
            return _checksum is null ? default : await VerifiedEndAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_remaining == 0)
        {
            End = BodyEnd.LimitReached;
            return _checksum is null ? default : await VerifiedEndAsync(cancellationToken).ConfigureAwait(false);
        }

        var result = await ReadPipeAsync(cancellationToken).ConfigureAwait(false);
        if (result is not { } read)
        {
            return _checksum is null ? default : await VerifiedEndAsync(cancellationToken).ConfigureAwait(false);
        }

        if (read.Buffer.IsEmpty)
        {
            _reader.AdvanceTo(read.Buffer.End);
            End = read.IsCompleted ? BodyEnd.Completed : BodyEnd.Interrupted;
            return _checksum is null ? default : await VerifiedEndAsync(cancellationToken).ConfigureAwait(false);
        }

        return read.Buffer.Length > _remaining ? read.Buffer.Slice(0, _remaining) : read.Buffer;
    }

    /// <summary>
    /// The body stopped, and a checksum is expected: the end the store is about to see is verified first, and refused
    /// with <see cref="ChecksumMismatchException"/> when the bytes cannot be vouched for.
    /// </summary>
    private async ValueTask<ReadOnlySequence<byte>> VerifiedEndAsync(CancellationToken cancellationToken)
    {
        if (End == BodyEnd.LimitReached)
        {
            // Whether the body ends exactly at the limit is known only by reading on, so that is done now, before the store
            // takes the end as a complete, verified body (without a checksum the engine probes after the store returns).
            await ProbeAsync(cancellationToken).ConfigureAwait(false);
        }

        VerifyOnce();
        return ChecksumFailure is null ? default : throw new ChecksumMismatchException();
    }

    /// <summary>Verifies the body, once, now that it ended: only a complete body can match its checksum.</summary>
    private void VerifyOnce()
    {
        if (_verified)
        {
            return;
        }

        _verified = true;
        ChecksumFailure = End == BodyEnd.Completed ? _checksum!.Verify() : TusError.ChecksumMismatch;
    }

    private void Consume(in ReadOnlySequence<byte> consumed)
    {
        if (_checksum is not null)
        {
            foreach (var memory in consumed)
            {
                _checksum.Append(memory.Span);
            }
        }

        var length = consumed.Length;
        BytesRead += length;
        _remaining -= length;
        // Only what was consumed counts as examined: bytes left in the pipe must be handed out by the next read at once.
        _reader.AdvanceTo(consumed.End);
    }

    /// <summary>Reads from the pipe under the sliding deadline; <see langword="null"/> when the body stopped, with <see cref="End"/> set.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult?> ReadPipeAsync(CancellationToken cancellationToken)
    {
        // Waiting for the client is not the store's time: its call timeout pauses here and starts afresh on return.
        _storeCall?.Pause();
        _deadline.CancelAfter(_readTimeout);
        try
        {
            LinkCallerToken(cancellationToken);
            if (_stop.IsCancellationRequested)
            {
                // Stopped between two reads: its CancelPendingRead may have been spent already, so no read is started.
                cancellationToken.ThrowIfCancellationRequested();
                End = StopReason();
                return null;
            }

            var result = await _reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                // Ends the read, so that the reader (and Kestrel's drain after the response) can read again.
                _reader.AdvanceTo(result.Buffer.Start);
                cancellationToken.ThrowIfCancellationRequested();
                End = StopReason();
                return null;
            }

            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            // The server's own abort (Kestrel turns a connection abort into a TaskCanceledException).
            End = _stop.IsCancellationRequested ? StopReason() : BodyEnd.Disconnected;
            return null;
        }
        catch (IOException)
        {
            // Kestrel reports a reset, a truncated body or a malformed chunk as an IOException: for the store it is the end.
            End = BodyEnd.Disconnected;
            return null;
        }
        finally
        {
            if (!_deadline.IsCancellationRequested)
            {
                _deadline.CancelAfter(Timeout.InfiniteTimeSpan);
            }

            _storeCall?.Restart();
        }
    }

    /// <summary>Folds the reader's own token into the stop signal, once per distinct token rather than once per read.</summary>
    private void LinkCallerToken(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled || cancellationToken == _callerToken)
        {
            return;
        }

        _callerRegistration.Dispose();
        _callerToken = cancellationToken;
        _callerRegistration = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _stop);
    }

    private CancellationToken _callerToken;
    private CancellationTokenRegistration _callerRegistration;

    private BodyEnd StopReason() =>
        _aborted.IsCancellationRequested ? BodyEnd.Disconnected
        : _serverStopping.IsCancellationRequested ? BodyEnd.ServerStopping
        : _leaseLost.IsCancellationRequested ? BodyEnd.LeaseLost
        : _releaseRequested.IsCancellationRequested ? BodyEnd.Interrupted
        : _deadline.IsCancellationRequested ? BodyEnd.TimedOut
        : BodyEnd.Interrupted;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Waits for a CancelPendingRead in progress: none reaches the reader once the request moved on.
            _releaseRegistration.Dispose();
            _stopRegistration.Dispose();
            _callerRegistration.Dispose();
            _stop.Dispose();
            _deadline.Dispose();
        }

        base.Dispose(disposing);
    }
}
