using Tus.Locking;

namespace Tus.Conformance;

/// <summary>
/// Creates the store and the locker that <see cref="ProtocolConformanceTests{TFixture}"/> runs the tus engine over,
/// behind a real HTTP server. A store author usually returns a new <c>Tus.Lockers.Memory.MemoryLocker</c> here; a
/// locker author returns their locker and any working store.
/// </summary>
/// <remarks>The signatures match <see cref="ILockerFixture"/>'s, so one class can implement both.</remarks>
public interface IProtocolFixture : IStoreFixture
{
    /// <summary>Creates a locker for one test.</summary>
    /// <param name="cancellationToken">Cancels the creation (the test's token).</param>
    /// <returns>The locker; the suite never disposes it itself.</returns>
    ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken);

    /// <summary>Cleans up a locker created by <see cref="CreateLockerAsync"/> once its test is over.</summary>
    /// <param name="locker">The locker.</param>
    /// <param name="cancellationToken">Cancels the clean-up.</param>
    ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken);
}
