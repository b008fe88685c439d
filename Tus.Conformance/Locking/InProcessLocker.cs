using Tus.Locking;

namespace Tus.Conformance.Internal;

/// <summary>
/// The locker <see cref="IProtocolFixture"/> supplies by default, so that a store author runs the protocol suite without
/// a locker package: exclusive access per upload within this instance, waiters served in arrival order, a release
/// request to the holder whenever someone waits (including a holder that got the lock by hand-off while others still
/// wait), abandoned waiters never granted, a non-intrusive <see cref="TryAcquireAsync"/>, and fencing tokens from one
/// counter that only grows. Its locks live in this process, so they are never lost.
/// </summary>
/// <remarks>The repository's tests run <see cref="LockerConformanceTests{TFixture}"/> against it.</remarks>
internal sealed class InProcessLocker : ITusLocker
{
    private readonly object _gate = new();

    // An upload has an entry while someone holds it; the entry carries the queue of those waiting. Guarded by _gate.
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _lastFencingToken;

    public ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ITusLock>(cancellationToken);
        }

        Held holder;
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (!_entries.TryGetValue(uploadId, out var entry))
            {
                return new ValueTask<ITusLock>(Grant(uploadId, new Entry()));
            }

            holder = entry.Holder!;
            node = entry.Waiters.AddLast(new Waiter(this));
        }

        // Signalled outside the gate: the holder's callbacks (the engine's request ending) must not run under it.
        holder.RequestRelease();
        return WaitAsync(node, cancellationToken);
    }

    public ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ITusLock?>(cancellationToken);
        }

        lock (_gate)
        {
            // Held (and so perhaps wanted): leave it alone, without a word to the holder.
            return new ValueTask<ITusLock?>(_entries.ContainsKey(uploadId) ? null : Grant(uploadId, new Entry()));
        }
    }

    private Held Grant(string uploadId, Entry entry)
    {
        var held = new Held(this, uploadId, ++_lastFencingToken);
        entry.Holder = held;
        _entries[uploadId] = entry;
        return held;
    }

    private static async ValueTask<ITusLock> WaitAsync(LinkedListNode<Waiter> node, CancellationToken cancellationToken)
    {
        // Registered once queued, so the callback always finds the waiter; a token that fired meanwhile runs it here.
        using (cancellationToken.UnsafeRegister(static (state, token) => ((LinkedListNode<Waiter>)state!).Value.Owner.Abandon((LinkedListNode<Waiter>)state, token), node))
        {
            return await node.Value.Task.ConfigureAwait(false);
        }
    }

    private void Abandon(LinkedListNode<Waiter> node, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Out of the queue already: the lock was handed to it first, and that grant stands.
            if (node.List is not { } queue)
            {
                return;
            }

            queue.Remove(node);
        }

        node.Value.TrySetCanceled(cancellationToken);
    }

    private void Release(Held released)
    {
        Waiter next;
        Held successor;
        bool othersWait;
        lock (_gate)
        {
            if (released.IsReleased)
            {
                return;
            }

            released.IsReleased = true;
            var entry = _entries[released.UploadId];
            if (entry.Waiters.First is not { } first)
            {
                _entries.Remove(released.UploadId);
                return;
            }

            // Dequeued under the gate, so an abandonment racing with this grant finds it gone and leaves it be.
            entry.Waiters.Remove(first);
            next = first.Value;
            successor = Grant(released.UploadId, entry);
            othersWait = entry.Waiters.Count > 0;
        }

        next.TrySetResult(successor);

        // A holder by hand-off that others still wait for is asked to release at once, like any other holder; those
        // who queue later ask it themselves.
        if (othersWait)
        {
            successor.RequestRelease();
        }
    }

    private sealed class Entry
    {
        public Held? Holder { get; set; }

        public LinkedList<Waiter> Waiters { get; } = new();
    }

    private sealed class Waiter(InProcessLocker owner) : TaskCompletionSource<ITusLock>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public InProcessLocker Owner { get; } = owner;
    }

    private sealed class Held(InProcessLocker owner, string uploadId, long fencingToken) : ITusLock
    {
        // Never disposed: it has no timer, and a waiter may cancel it at any moment.
        private readonly CancellationTokenSource _releaseRequested = new();

        public string UploadId { get; } = uploadId;

        public long FencingToken { get; } = fencingToken;

        public CancellationToken ReleaseRequested => _releaseRequested.Token;

        public CancellationToken Lost => CancellationToken.None;

        /// <summary>Guarded by the owner's gate.</summary>
        public bool IsReleased { get; set; }

        public void RequestRelease()
        {
            // The holder's callbacks run on the thread pool, never on the thread of the request that waits.
            if (!_releaseRequested.IsCancellationRequested)
            {
                _ = _releaseRequested.CancelAsync();
            }
        }

        public ValueTask DisposeAsync()
        {
            owner.Release(this);
            return ValueTask.CompletedTask;
        }
    }
}
