namespace Tus.Locking;

/// <summary>Grants exclusive access to one upload at a time, in one process or across many.</summary>
public interface ITusLocker
{
    /// <summary>
    /// Acquires the lock of an upload, waiting while another holder has it. Waiting asks the current holder to release
    /// (its <see cref="ITusLock.ReleaseRequested"/> fires), so a stale request ends instead of the newcomer failing.
    /// </summary>
    /// <param name="uploadId">The upload to lock.</param>
    /// <param name="cancellationToken">Ends the wait; the engine folds its lock timeout into it. When it fires (or has
    /// fired already, even for a free upload) the method throws <see cref="OperationCanceledException"/> and holds
    /// nothing; a waiter that gave up is never granted the lock later.</param>
    /// <remarks>
    /// No wake-up may be lost, and a holder asked to release must not get the lock back ahead of a request already
    /// waiting for it, so a stale request can always be displaced. Lockers may grant waiters in any order beyond that.
    /// </remarks>
    /// <returns>The held lock; dispose it to release.</returns>
    ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Acquires the lock of an upload only if nobody holds it or waits for it, without waiting and without asking a
    /// holder to release: the expiration sweeper uses it so that it never interrupts a request in progress.
    /// </summary>
    /// <param name="uploadId">The upload to lock.</param>
    /// <param name="cancellationToken">Bounds the attempt (a distributed locker asks its backend). When it fires the
    /// method throws <see cref="OperationCanceledException"/> and holds nothing.</param>
    /// <returns>The held lock, or <see langword="null"/> when the upload is held or wanted by someone else.</returns>
    ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken);
}

/// <summary>A held lock: a lease on one upload. Disposing it releases the lock; disposing twice is harmless.</summary>
public interface ITusLock : IAsyncDisposable
{
    /// <summary>The locked upload.</summary>
    string UploadId { get; }

    /// <summary>Fires when another request waits for this upload: the holder should finish promptly and release.</summary>
    CancellationToken ReleaseRequested { get; }

    /// <summary>
    /// Fires when the lease is lost (a distributed locker could not renew it), so exclusive access is no longer
    /// guaranteed. In-process lockers never fire it.
    /// </summary>
    CancellationToken Lost { get; }

    /// <summary>
    /// A number that grows every time this upload's lock is granted, so it is larger for every later holder than for any
    /// earlier one, in every process sharing the locker. Stores may record it and refuse a write that carries a lower
    /// one (a holder whose lease was lost). The engine passes it to stores as <see cref="Stores.UploadInfo.FencingToken"/>.
    /// </summary>
    long FencingToken { get; }
}
