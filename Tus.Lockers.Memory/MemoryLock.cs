using Tus.Locking;

namespace Tus.Lockers.Memory;

/// <summary>
/// One holding of an upload's lock, from its grant to its release. A new holding gets a new instance, so disposing a
/// released lock again can never release someone else's. Mutable state is guarded by the owner's gate.
/// </summary>
internal sealed class MemoryLock : ITusLock
{
    private readonly MemoryLocker _owner;

    // Created only when someone reads ReleaseRequested, so an uncontended acquire allocates nothing but this object.
    // Never disposed: a waiter may cancel it outside the gate at any time, and a source without a timer holds no
    // resources that disposing would free.
    private CancellationTokenSource? _releaseSource;
    private bool _releaseRequested;

    public MemoryLock(MemoryLocker owner, string uploadId, long fencingToken)
    {
        _owner = owner;
        UploadId = uploadId;
        FencingToken = fencingToken;
    }

    public string UploadId { get; }

    public long FencingToken { get; }

    public CancellationToken ReleaseRequested => _owner.GetReleaseRequested(this);

    /// <summary>Always <see cref="CancellationToken.None"/>: a lock held in this process cannot be lost.</summary>
    public CancellationToken Lost => CancellationToken.None;

    /// <summary>Requests waiting for this upload, oldest first; handed to the next holder on release.</summary>
    internal LinkedList<Waiter>? Waiters { get; set; }

    internal bool IsReleased { get; set; }

    public ValueTask DisposeAsync()
    {
        _owner.Release(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Marks the release request; returns the source to cancel, outside the gate, when it was just made.</summary>
    internal CancellationTokenSource? RequestRelease()
    {
        if (_releaseRequested)
        {
            return null;
        }

        _releaseRequested = true;
        return _releaseSource;
    }

    internal CancellationToken GetReleaseRequested()
    {
        if (_releaseSource is null)
        {
            if (_releaseRequested)
            {
                return new CancellationToken(canceled: true);
            }

            _releaseSource = new CancellationTokenSource();
        }

        return _releaseSource.Token;
    }
}
