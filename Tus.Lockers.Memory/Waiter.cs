using Tus.Locking;

namespace Tus.Lockers.Memory;

/// <summary>
/// A request waiting for an upload, queued on the holder; completed with its lock, or canceled when it gives up.
/// Continuations run asynchronously, so granting never runs the waiter's code on the releasing thread.
/// </summary>
internal sealed class Waiter : TaskCompletionSource<ITusLock>
{
    private readonly MemoryLocker _owner;

    public Waiter(MemoryLocker owner)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _owner = owner;
        Node = new LinkedListNode<Waiter>(this);
    }

    /// <summary>The waiter's place in the queue; <see cref="LinkedListNode{T}.List"/> is null once it has left.</summary>
    public LinkedListNode<Waiter> Node { get; }

    /// <summary>Gives up waiting because <paramref name="cancellationToken"/> fired, unless the lock was granted first.</summary>
    public void Abandon(CancellationToken cancellationToken) => _owner.Abandon(this, cancellationToken);
}
