using Tus.Conformance;
using Tus.Lockers.Memory;
using Tus.Locking;
using Tus.Stores;

namespace Contoso.Tus.Tests;

/// <summary>A fresh, empty store for every test, and the memory locker for the end-to-end suite.</summary>
public sealed class InMemoryStoreFixture : IProtocolFixture
{
    public ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken) => ValueTask.FromResult<ITusStore>(new InMemoryTusStore());

    public ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<ITusLocker> CreateLockerAsync(CancellationToken cancellationToken) => ValueTask.FromResult<ITusLocker>(new MemoryLocker());

    public ValueTask DisposeLockerAsync(ITusLocker locker, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
