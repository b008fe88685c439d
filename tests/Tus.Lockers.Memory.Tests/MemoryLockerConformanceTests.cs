using Tus.Conformance;
using Tus.Locking;

namespace Tus.Lockers.Memory.Tests;

/// <summary>A new <see cref="MemoryLocker"/> per test. Its locks live in one instance, so the peer is the locker itself,
/// and it cannot lose a lease: the fixture does not implement <see cref="ILeaseLossFixture"/>, so the lease-loss test
/// reports itself skipped.</summary>
public sealed class MemoryLockerConformanceFixture : ILockerFixture
{
    public ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken) => ValueTask.FromResult<ITusLocker>(new MemoryLocker());

    public ValueTask<ITusLocker> CreatePeerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.FromResult(locker);

    public ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class MemoryLockerConformanceTests(MemoryLockerConformanceFixture fixture) : LockerConformanceTests<MemoryLockerConformanceFixture>(fixture);
