using System.Diagnostics;
using Tus.Locking;

namespace Tus.Lockers.Memory;

/// <summary>
/// Grants exclusive access to one upload at a time within the current process. Waiters are served in arrival order,
/// and waiting asks the current holder to release (its <see cref="ITusLock.ReleaseRequested"/> fires).
/// </summary>
/// <remarks>
/// <para>
/// The lock lives in this instance's memory, so it only excludes requests handled by the same process (and the same
/// <see cref="MemoryLocker"/> instance). When several server instances share a store, use a distributed locker.
/// </para>
/// <para>
/// When a holder releases while others wait, the lock passes straight to the longest waiting request; a request that
/// arrives meanwhile queues behind it. If more requests still wait, the new holder's
/// <see cref="ITusLock.ReleaseRequested"/> has already fired, so a chain of stale requests unwinds one after another.
/// A lock held by this locker is never lost: <see cref="ITusLock.Lost"/> is <see cref="CancellationToken.None"/>.
/// </para>
/// <para>All members are thread-safe, and a lock may be released from any thread.</para>
/// </remarks>
public sealed class MemoryLocker : ITusLocker
{
#if NET9_0_OR_GREATER
    private readonly Lock _gate = new();
#else
    private readonly object _gate = new();
#endif

    // One entry per upload that has a holder; the entry is the holder's lock, which also carries the queue of waiters.
    // An upload with neither holder nor waiter has no entry. Guarded by _gate, like every mutable field of the locks.
    private readonly Dictionary<string, MemoryLock> _holders = new(StringComparer.Ordinal);

    // One counter for every upload: entries are dropped when idle, so a per-upload count would start over, while this
    // one only grows, which makes every grant's token larger than any earlier grant's of the same upload.
    private long _fencingTokens;

    /// <summary>Creates a locker with no lock held.</summary>
    public MemoryLocker()
    {
    }

    /// <summary>The number of uploads with a holder, for tests.</summary>
    internal int EntryCount
    {
        get
        {
            lock (_gate)
            {
                return _holders.Count;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The lock is taken at once, without waiting, when the upload is free. A <paramref name="cancellationToken"/> that
    /// has already fired fails the call even then: nothing is acquired and the returned task is canceled.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="uploadId"/> is <see langword="null"/>.</exception>
    public ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ITusLock>(cancellationToken);
        }

        Waiter waiter;
        CancellationTokenSource? toSignal;
        lock (_gate)
        {
            if (!_holders.TryGetValue(uploadId, out var holder))
            {
                var acquired = new MemoryLock(this, uploadId, ++_fencingTokens);
                _holders.Add(uploadId, acquired);
                return new ValueTask<ITusLock>(acquired);
            }

            waiter = new Waiter(this);
            holder.Waiters ??= new LinkedList<Waiter>();
            holder.Waiters.AddLast(waiter.Node);
            toSignal = holder.RequestRelease();
        }

        // Outside the gate, and without running the holder's callbacks on this thread: CancelAsync marks the token
        // canceled at once and runs its callbacks on the thread pool.
        _ = toSignal?.CancelAsync();
        return WaitAsync(waiter, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Takes the lock only when the upload has no holder (and so no waiter); never signals anyone.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="uploadId"/> is <see langword="null"/>.</exception>
    public ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ITusLock?>(cancellationToken);
        }

        lock (_gate)
        {
            if (_holders.ContainsKey(uploadId))
            {
                return new ValueTask<ITusLock?>((ITusLock?)null);
            }

            var acquired = new MemoryLock(this, uploadId, ++_fencingTokens);
            _holders.Add(uploadId, acquired);
            return new ValueTask<ITusLock?>(acquired);
        }
    }

    /// <summary>Releases <paramref name="released"/>, handing the upload to the longest waiting request, if any.</summary>
    internal void Release(MemoryLock released)
    {
        Waiter next;
        MemoryLock successor;
        lock (_gate)
        {
            if (released.IsReleased)
            {
                return;
            }

            released.IsReleased = true;
            Debug.Assert(ReferenceEquals(_holders[released.UploadId], released), "Only the current holder can release.");

            var waiters = released.Waiters;
            released.Waiters = null;
            if (waiters is null || waiters.First is not { } first)
            {
                _holders.Remove(released.UploadId);
                return;
            }

            waiters.Remove(first);
            next = first.Value;
            successor = new MemoryLock(this, released.UploadId, ++_fencingTokens);
            if (waiters.Count > 0)
            {
                // Nobody has seen the successor's token yet, so marking it is enough: it reads as already fired.
                successor.Waiters = waiters;
                successor.RequestRelease();
            }

            _holders[released.UploadId] = successor;
        }

        // The waiter left the queue under the gate, so its wait cannot be abandoned any more: this always succeeds.
        // Its continuation runs asynchronously (see Waiter), not on the releasing thread.
        var granted = next.TrySetResult(successor);
        Debug.Assert(granted, "A queued waiter is completed only by the grant that dequeues it.");
    }

    /// <summary>The release-request token of <paramref name="held"/>, created on first use.</summary>
    internal CancellationToken GetReleaseRequested(MemoryLock held)
    {
        lock (_gate)
        {
            return held.GetReleaseRequested();
        }
    }

    private static async ValueTask<ITusLock> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        // Registered only once queued, so the callback always finds the waiter: if the token fired in between, the
        // callback runs right here and the wait ends canceled. Disposing the registration waits for a running callback,
        // which is safe because this is never done under the gate.
        using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Abandon(token), waiter))
        {
            return await waiter.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Ends a wait whose token fired, unless the lock was granted first.</summary>
    internal void Abandon(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Not in a queue any more: it was granted the lock (or already abandoned); the grant stands.
            if (waiter.Node.List is not { } queue)
            {
                return;
            }

            // The holder's release request stays fired; it cannot be taken back, and the holder ends early at worst.
            queue.Remove(waiter.Node);
        }

        waiter.TrySetCanceled(cancellationToken);
    }
}
