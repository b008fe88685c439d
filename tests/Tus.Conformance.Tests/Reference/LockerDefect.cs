namespace Tus.Conformance.Tests.Reference;

/// <summary>One rule of the locker contract that <see cref="ReferenceLocker"/> breaks on purpose; <see cref="None"/> for
/// a correct locker.</summary>
public enum LockerDefect
{
    /// <summary>A correct locker.</summary>
    None,

    /// <summary>Every acquire is granted at once, whoever holds the lock.</summary>
    NoMutualExclusion,

    /// <summary>One lock for all uploads: the upload id is ignored.</summary>
    GlobalLock,

    /// <summary>Waiting never fires the holder's ReleaseRequested.</summary>
    NeverRequestsRelease,

    /// <summary>ReleaseRequested has fired already when the lock is granted.</summary>
    ReleaseRequestedAtOnce,

    /// <summary>Acquire ignores its cancellation token: a wait only ends with the lock.</summary>
    IgnoresCancellation,

    /// <summary>A cancelled waiter throws but keeps its place in the queue, so the lock is later granted to nobody.</summary>
    CancelledWaiterKeepsItsPlace,

    /// <summary>Disposing a lock does not release it.</summary>
    DisposeDoesNotRelease,

    /// <summary>Disposing a released lock again releases whoever holds the upload now.</summary>
    DoubleDisposeReleasesAgain,

    /// <summary>A released lock is free for whoever asks first; waiters learn of the release a few milliseconds later,
    /// as watchers of a lock service do, and try again (barging).</summary>
    Barging,

    /// <summary>A release wakes the first waiter and forgets the others.</summary>
    LosesWakeUps,

    /// <summary>A lease lost (revoked) never fires Lost.</summary>
    LostNeverFires,

    /// <summary>Lost is the ReleaseRequested token: a release request reads as a lost lease.</summary>
    LostIsReleaseRequested,

    /// <summary>TryAcquire on a held upload returns null but fires the holder's ReleaseRequested.</summary>
    TryAcquireRequestsRelease,

    /// <summary>TryAcquire grants the lock whoever holds it.</summary>
    TryAcquireBarges,

    /// <summary>Fencing tokens count per upload entry, which is dropped when idle, so they start over.</summary>
    FencingTokenRestarts,

    /// <summary>Each client of the lock service counts fencing tokens on its own.</summary>
    FencingTokenPerClient,

    /// <summary>A lock handed to a waiter while others still wait is not asked to release.</summary>
    HandOffHolderNotAskedToRelease,

    /// <summary>Only the first holder of an upload is ever asked to release: the locker remembers that it asked, per
    /// upload, and never asks again.</summary>
    OnlyFirstHolderAskedToRelease,
}
