using Tus.Locking;

namespace Tus.Conformance.Tests.Reference;

/// <summary>
/// The lock state that reference lockers share: one table stands for one lock service, and several
/// <see cref="ReferenceLocker"/> instances over the same table behave like clients of it in different processes.
/// </summary>
internal sealed class LockTable
{
    public object Gate { get; } = new();

    public Dictionary<string, Slot> Slots { get; } = new(StringComparer.Ordinal);

    /// <summary>The last fencing token the service granted, for any upload; guarded by <see cref="Gate"/>.</summary>
    public long LastFencingToken { get; set; }

    /// <summary>The uploads whose holder was asked to release once (the OnlyFirstHolderAskedToRelease defect).</summary>
    public HashSet<string> AskedToRelease { get; } = new(StringComparer.Ordinal);

    internal sealed class Slot
    {
        /// <summary>The last fencing token granted for this slot alone (the FencingTokenRestarts defect).</summary>
        public long LastToken { get; set; }

        public ReferenceLocker.Held? Holder { get; set; }

        public LinkedList<TaskCompletionSource<ReferenceLocker.Held?>> Waiters { get; } = new();
    }
}

/// <summary>
/// A correct locker written from the contract's documentation: FIFO hand-off (a released lock goes straight to the longest
/// waiting request), release requests to the holder, cancellable waits, idempotent disposal, a TryAcquire that leaves
/// holders alone, fencing tokens from the service's one counter, and optionally revocable leases. It can break exactly
/// one rule on request (<see cref="LockerDefect"/>).
/// </summary>
internal sealed class ReferenceLocker(LockTable table, LockerDefect defect) : ITusLocker
{
    // The FencingTokenPerClient defect: a counter of this client's own instead of the service's.
    private long _clientFencingToken;

    /// <summary>The lock service this locker is a client of.</summary>
    public LockTable Table => table;

    public ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (defect != LockerDefect.IgnoresCancellation && cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ITusLock>(cancellationToken);
        }

        return new ValueTask<ITusLock>(AcquireCoreAsync(defect == LockerDefect.GlobalLock ? "*" : uploadId, uploadId, cancellationToken));
    }

    public ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (defect != LockerDefect.IgnoresCancellation && cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ITusLock?>(cancellationToken);
        }

        var key = defect == LockerDefect.GlobalLock ? "*" : uploadId;
        Held? holder = null;
        ITusLock? granted = null;
        lock (table.Gate)
        {
            if (!table.Slots.TryGetValue(key, out var slot))
            {
                slot = new LockTable.Slot();
                table.Slots.Add(key, slot);
            }

            if (slot.Holder is null || defect == LockerDefect.TryAcquireBarges)
            {
                var held = new Held(this, key, uploadId, NextFencingToken(slot));
                slot.Holder ??= held;
                granted = held;
            }
            else
            {
                holder = slot.Holder;
            }
        }

        if (holder is not null && defect == LockerDefect.TryAcquireRequestsRelease)
        {
            holder.ReleaseSource.Cancel();
        }

        return ValueTask.FromResult(granted);
    }

    /// <summary>The next fencing token; runs under the gate.</summary>
    private long NextFencingToken(LockTable.Slot slot) => defect switch
    {
        LockerDefect.FencingTokenRestarts => ++slot.LastToken,
        LockerDefect.FencingTokenPerClient => ++_clientFencingToken,
        _ => ++table.LastFencingToken,
    };

    /// <summary>Takes the lease away from <paramref name="revoked"/>: the upload is free for others and, unless the defect
    /// says otherwise, <see cref="ITusLock.Lost"/> fires.</summary>
    private void Revoke(Held revoked)
    {
        List<Action> after = [];
        lock (table.Gate)
        {
            if (!revoked.Released && table.Slots.TryGetValue(revoked.Key, out var slot) && slot.Holder == revoked)
            {
                revoked.Released = true;
                HandOff(revoked.Key, slot, after);
            }
        }

        if (defect != LockerDefect.LostNeverFires)
        {
            after.Add(() => revoked.LostSource.Cancel());
        }

        after.ForEach(action => action());
    }

    private async Task<ITusLock> AcquireCoreAsync(string key, string uploadId, CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource<Held?> waiter;
            LinkedListNode<TaskCompletionSource<Held?>> node;
            List<Action> after = [];
            lock (table.Gate)
            {
                if (!table.Slots.TryGetValue(key, out var slot))
                {
                    slot = new LockTable.Slot();
                    table.Slots.Add(key, slot);
                }

                if (slot.Holder is null || defect == LockerDefect.NoMutualExclusion)
                {
                    var granted = new Held(this, key, uploadId, NextFencingToken(slot));
                    slot.Holder ??= granted;
                    if (defect == LockerDefect.ReleaseRequestedAtOnce)
                    {
                        granted.ReleaseSource.Cancel();
                    }

                    return granted;
                }

                waiter = new TaskCompletionSource<Held?>(uploadId, TaskCreationOptions.RunContinuationsAsynchronously);
                node = slot.Waiters.AddLast(waiter);
                if (defect != LockerDefect.NeverRequestsRelease && (defect != LockerDefect.OnlyFirstHolderAskedToRelease || table.AskedToRelease.Add(key)))
                {
                    var holder = slot.Holder;
                    after.Add(() => holder.ReleaseSource.Cancel());
                }
            }

            after.ForEach(action => action());
            Held? result;
            var token = defect == LockerDefect.IgnoresCancellation ? CancellationToken.None : cancellationToken;
            using (token.Register(() => Abandon(node, cancellationToken)))
            {
                result = await waiter.Task.ConfigureAwait(false);
            }

            if (result is not null)
            {
                return result;
            }

            // Barging: woken to try again.
        }
    }

    private void Abandon(LinkedListNode<TaskCompletionSource<Held?>> node, CancellationToken cancellationToken)
    {
        lock (table.Gate)
        {
            if (node.List is { } queue && defect != LockerDefect.CancelledWaiterKeepsItsPlace)
            {
                queue.Remove(node);
            }
        }

        node.Value.TrySetCanceled(cancellationToken);
    }

    private void Release(Held released)
    {
        List<Action> after = [];
        lock (table.Gate)
        {
            if (defect == LockerDefect.DisposeDoesNotRelease)
            {
                return;
            }

            if (released.Released)
            {
                if (defect != LockerDefect.DoubleDisposeReleasesAgain || !table.Slots.TryGetValue(released.Key, out var current) || current.Holder is not { } other)
                {
                    return;
                }

                other.Released = true;
                HandOff(released.Key, current, after);
            }
            else
            {
                released.Released = true;
                if (table.Slots.TryGetValue(released.Key, out var slot) && slot.Holder == released)
                {
                    HandOff(released.Key, slot, after);
                }
            }
        }

        after.ForEach(action => action());
    }

    /// <summary>Gives the upload to the next waiter that still waits, or frees it. Runs under the gate; signals are
    /// queued in <paramref name="after"/> to run outside it.</summary>
    private void HandOff(string key, LockTable.Slot slot, List<Action> after)
    {
        if (defect == LockerDefect.Barging)
        {
            // Waiters learn of the release the way watchers of a lock service do, a few milliseconds later; whoever
            // asks in between takes the lock.
            slot.Holder = null;
            var woken = slot.Waiters.ToList();
            slot.Waiters.Clear();
            after.Add(() => _ = Task.Delay(20).ContinueWith(_ => woken.ForEach(w => w.TrySetResult(null)), TaskScheduler.Default));
            return;
        }

        while (slot.Waiters.First is { } first)
        {
            slot.Waiters.RemoveFirst();
            var successor = new Held(this, key, (string)first.Value.Task.AsyncState!, NextFencingToken(slot));
            if (defect == LockerDefect.LosesWakeUps)
            {
                slot.Waiters.Clear();
            }

            // A waiter that gave up cannot take the lock; the next one gets it (unless the defect forgets that).
            var delivered = first.Value.TrySetResult(successor);
            if (delivered || defect == LockerDefect.CancelledWaiterKeepsItsPlace)
            {
                slot.Holder = successor;
                if (slot.Waiters.Count > 0 && defect != LockerDefect.HandOffHolderNotAskedToRelease)
                {
                    successor.ReleaseSource.Cancel();
                }

                return;
            }
        }

        slot.Holder = null;
        table.Slots.Remove(key);
    }

    internal sealed class Held(ReferenceLocker owner, string key, string uploadId, long fencingToken) : ITusLock
    {
        public long FencingToken { get; } = fencingToken;

        public string Key { get; } = key;

        public string UploadId { get; } = uploadId;

        public bool Released { get; set; }

        public CancellationTokenSource ReleaseSource { get; } = new();

        public CancellationTokenSource LostSource { get; } = new();

        public CancellationToken ReleaseRequested => ReleaseSource.Token;

        public CancellationToken Lost => owner.LostOf(this);

        /// <summary>Takes the lease away, as a lock service does when renewals fail.</summary>
        public void Revoke() => owner.Revoke(this);

        public ValueTask DisposeAsync()
        {
            owner.Release(this);
            return ValueTask.CompletedTask;
        }
    }

    private CancellationToken LostOf(Held held) => defect == LockerDefect.LostIsReleaseRequested ? held.ReleaseSource.Token : held.LostSource.Token;
}
