using Tus.Stores;

namespace Tus.Conformance;

/// <summary>
/// Creates and cleans up the store under test. Implement it in your test project and pass it as the type argument of
/// the store suites (<see cref="StoreConformanceTests{TFixture}"/>, <see cref="ReadBackConformanceTests{TFixture}"/>,
/// the capability suites and <see cref="ConformanceCoverageTests{TFixture}"/>).
/// </summary>
/// <remarks>
/// <para>xunit creates one fixture per test class (it must have a public parameterless constructor) and disposes it
/// after the class's last test when it implements <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/>.</para>
/// <para>Every test asks for a store of its own with <see cref="CreateStoreAsync"/> and hands it back to
/// <see cref="DisposeStoreAsync"/> when it ends, passed or failed. The suites assume each store starts empty and sees
/// no other test's uploads: give each store its own directory, bucket prefix, table or key space.</para>
/// </remarks>
public interface IStoreFixture
{
    /// <summary>Creates a new, empty store for one test.</summary>
    /// <param name="cancellationToken">Cancels the creation (the test's token).</param>
    /// <returns>The store; the suite never disposes it itself.</returns>
    ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken);

    /// <summary>Cleans up a store created by <see cref="CreateStoreAsync"/> once its test is over: removes its files,
    /// objects or rows and disposes it.</summary>
    /// <param name="store">A store this fixture created.</param>
    /// <param name="cancellationToken">Cancels the clean-up.</param>
    ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the store can read an unfinished upload's bytes back with <see cref="ITusStore.OpenReadAsync"/>. Default
    /// <see langword="true"/>. Return <see langword="false"/> for a store that cannot (an S3 multipart upload's parts
    /// cannot be read, say): the engine never needs it, and the suites then check such uploads by their offset, reading
    /// their bytes only once they are complete; tests whose whole point is reading unfinished data report skipped.
    /// </summary>
    bool ReadsUnfinishedUploads => true;
}
