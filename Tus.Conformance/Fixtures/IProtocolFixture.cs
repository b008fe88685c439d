using Tus.Conformance.Internal;
using Tus.Locking;

namespace Tus.Conformance;

/// <summary>
/// Creates the store (and, if you like, the locker) that <see cref="ProtocolConformanceTests{TFixture}"/> runs the tus
/// engine over. A store author implements only <see cref="IStoreFixture"/>'s two methods: by default the suite locks
/// uploads with a correct in-process locker shipped in this package, so no locker package is needed. A locker author
/// implements <see cref="CreateLockerAsync"/> and <see cref="DisposeLockerAsync"/> to return their locker, with any
/// working store.
/// </summary>
/// <remarks>The signatures match <see cref="ILockerFixture"/>'s, so one class can implement both.</remarks>
public interface IProtocolFixture : IStoreFixture
{
    /// <summary>Creates a locker for one test. Default: a new in-process locker of this package (mutual exclusion,
    /// release requests to the holder, fair hand-off, growing fencing tokens; its locks are never lost).</summary>
    /// <param name="cancellationToken">Cancels the creation (the test's token).</param>
    /// <returns>The locker; the suite never disposes it itself.</returns>
    ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<ITusLocker>(new InProcessLocker());

    /// <summary>Cleans up a locker created by <see cref="CreateLockerAsync"/> once its test is over. Default: nothing to
    /// clean up.</summary>
    /// <param name="locker">The locker.</param>
    /// <param name="cancellationToken">Cancels the clean-up.</param>
    ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
