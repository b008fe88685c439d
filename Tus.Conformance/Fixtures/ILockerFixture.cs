using Tus.Locking;

namespace Tus.Conformance;

/// <summary>
/// Creates and cleans up the locker under test for <see cref="LockerConformanceTests{TFixture}"/>.
/// </summary>
/// <remarks>
/// xunit creates one fixture per test class (it must have a public parameterless constructor). Every test asks for a
/// locker of its own with <see cref="CreateLockerAsync"/>; lock names never repeat across tests, but a distributed
/// locker should still use a key space of its own per test.
/// </remarks>
public interface ILockerFixture
{
    /// <summary>Creates a locker for one test.</summary>
    /// <param name="cancellationToken">Cancels the creation (the test's token).</param>
    /// <returns>The locker; the suite never disposes it itself.</returns>
    ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Returns a locker that shares <paramref name="locker"/>'s locks the way another server process would: a
    /// distributed locker returns a new client of the same backend and key space; an in-process locker, whose locks
    /// exist only inside one instance, returns <paramref name="locker"/> itself.
    /// </summary>
    /// <remarks>The suites take locks through both, so that mutual exclusion and release requests are proven across
    /// processes wherever the locker claims to work across processes.</remarks>
    /// <param name="locker">A locker created by <see cref="CreateLockerAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The peer; it is handed to <see cref="DisposeLockerAsync"/> too (after <paramref name="locker"/>), unless it
    /// is the same instance.</returns>
    ValueTask<ITusLocker> CreatePeerAsync(ITusLocker locker, CancellationToken cancellationToken);

    /// <summary>Cleans up a locker created by <see cref="CreateLockerAsync"/> or <see cref="CreatePeerAsync"/> once its
    /// test is over.</summary>
    /// <param name="locker">The locker.</param>
    /// <param name="cancellationToken">Cancels the clean-up.</param>
    ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken);
}

/// <summary>
/// A <see cref="ILockerFixture"/> for a locker whose leases can be lost (a distributed locker whose session or key can
/// expire). Implement it only then: the suite's lease-loss test runs for fixtures that implement it and reports itself
/// skipped for the others, so an in-process locker's fixture has nothing to implement.
/// </summary>
public interface ILeaseLossFixture : ILockerFixture
{
    /// <summary>
    /// Makes <paramref name="held"/> lose its lease the way it would in production (its session is invalidated, its key
    /// deleted behind its back, its renewals fail).
    /// </summary>
    /// <param name="held">A lock acquired from a locker of this fixture.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    ValueTask ForceLeaseLossAsync(ITusLock held, CancellationToken cancellationToken);
}
