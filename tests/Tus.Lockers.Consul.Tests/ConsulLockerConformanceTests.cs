using Tus.Conformance;
using Tus.Lockers.Consul.Internal;
using Tus.Locking;

namespace Tus.Lockers.Consul.Tests;

/// <summary>
/// A new <see cref="ConsulLocker"/> per test, in a key prefix of its own, against the real agent; the peer is a second
/// locker on the same prefix, as another server process would be. Leases are lost by destroying the lock's session.
/// </summary>
public sealed class ConsulLockerConformanceFixture : ILeaseLossFixture
{
    public ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken)
    {
        var address = ConsulAgent.Require();
        return ValueTask.FromResult<ITusLocker>(new ConsulLocker(ConsulAgent.Options(address)));
    }

    public ValueTask<ITusLocker> CreatePeerAsync(ITusLocker locker, CancellationToken cancellationToken)
    {
        var first = (ConsulLocker)locker;
        return ValueTask.FromResult<ITusLocker>(new ConsulLocker(first.Options));
    }

    public async ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken) =>
        await ((ConsulLocker)locker).DisposeAsync();

    public async ValueTask ForceLeaseLossAsync(ITusLock held, CancellationToken cancellationToken) =>
        await ConsulAgent.DestroySessionAsync(ConsulAgent.Require(), ((ConsulLock)held).SessionId, cancellationToken);
}

public sealed class ConsulLockerConformanceTests(ConsulLockerConformanceFixture fixture) : LockerConformanceTests<ConsulLockerConformanceFixture>(fixture);
