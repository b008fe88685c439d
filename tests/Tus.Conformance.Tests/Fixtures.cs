using Tus.Conformance.Internal;
using Tus.Conformance.Tests.Reference;
using Tus.Locking;
using Tus.Stores;

namespace Tus.Conformance.Tests;

/// <summary>Gives each test a <see cref="ReferenceStore"/> with every capability, correct unless a defect is asked for.
/// The protocol suite locks with the package's default in-process locker, as a store author's fixture does.</summary>
public class ReferenceStoreFixture : IProtocolFixture
{
    /// <summary>A correct store (xunit uses this constructor).</summary>
    public ReferenceStoreFixture()
        : this(StoreDefect.None)
    {
    }

    /// <summary>A store that breaks one rule.</summary>
    internal ReferenceStoreFixture(StoreDefect defect) => Defect = defect;

    public StoreDefect Defect { get; }

    protected virtual bool Capabilities => true;

    public virtual bool ReadsUnfinishedUploads => true;

    public ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<ITusStore>(new ReferenceStore(Defect, Capabilities));

    public ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken)
    {
        ((ReferenceStore)store).Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A reference store that cannot read an unfinished upload back (as an S3 multipart upload cannot), and says so: the
/// suites check such uploads by their offset, and the protocol suite shows that the engine never needs to read one.
/// </summary>
public sealed class CompleteReadsOnlyStoreFixture : ReferenceStoreFixture
{
    public CompleteReadsOnlyStoreFixture()
        : base(StoreDefect.ReadUnfinishedFails)
    {
    }

    public override bool ReadsUnfinishedUploads => false;
}

/// <summary>A correct reference store that declares no capability at all.</summary>
public sealed class MinimalStoreFixture : ReferenceStoreFixture
{
    protected override bool Capabilities => false;
}

/// <summary>Reference lockers over one lock table per test; in-process, so leases cannot be lost.</summary>
public class ReferenceLockerFixture : ILockerFixture
{
    /// <summary>A correct locker (xunit uses this constructor).</summary>
    public ReferenceLockerFixture()
        : this(LockerDefect.None)
    {
    }

    /// <summary>A locker that breaks one rule.</summary>
    internal ReferenceLockerFixture(LockerDefect defect) => Defect = defect;

    public LockerDefect Defect { get; }

    public ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<ITusLocker>(new ReferenceLocker(new LockTable(), Defect));

    public virtual ValueTask<ITusLocker> CreatePeerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.FromResult(locker);

    public ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// Reference lockers that behave like clients of a lock service with leases: the peer is a separate instance over the
/// same table, and a lease can be revoked.
/// </summary>
public sealed class LeasedReferenceLockerFixture : ReferenceLockerFixture, ILeaseLossFixture
{
    public LeasedReferenceLockerFixture()
    {
    }

    internal LeasedReferenceLockerFixture(LockerDefect defect)
        : base(defect)
    {
    }

    public override ValueTask<ITusLocker> CreatePeerAsync(ITusLocker locker, CancellationToken cancellationToken) =>
        ValueTask.FromResult<ITusLocker>(new ReferenceLocker(((ReferenceLocker)locker).Table, Defect));

    public ValueTask ForceLeaseLossAsync(ITusLock held, CancellationToken cancellationToken)
    {
        ((ReferenceLocker.Held)held).Revoke();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The in-process locker Tus.Conformance gives the protocol suite by default (internal, visible to this
/// assembly); one instance holds all its locks, so the peer is the locker itself.</summary>
public sealed class InProcessLockerFixture : ILockerFixture
{
    public ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken) => ValueTask.FromResult<ITusLocker>(new InProcessLocker());

    public ValueTask<ITusLocker> CreatePeerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.FromResult(locker);

    public ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
