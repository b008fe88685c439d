using Tus.Conformance;
using Tus.Stores;

namespace Contoso.Tus.Tests;

/// <summary>A fresh, empty store for every test. The end-to-end suite locks uploads with Tus.Conformance's built-in
/// in-process locker, so the fixture needs no locker package.</summary>
public sealed class InMemoryStoreFixture : IProtocolFixture
{
    public ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken) => ValueTask.FromResult<ITusStore>(new InMemoryTusStore());

    public ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
