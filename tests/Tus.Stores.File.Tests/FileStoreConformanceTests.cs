using System.Collections.Concurrent;
using Tus.Conformance;

namespace Tus.Stores.Tests;

/// <summary>Gives each conformance test a <see cref="FileStore"/> over a temporary directory of its own, removed after
/// the test. The protocol suite locks with Tus.Conformance's default in-process locker.</summary>
public sealed class FileStoreConformanceFixture : IProtocolFixture, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tus-file-conformance", Guid.NewGuid().ToString("N"));
    private readonly ConcurrentDictionary<ITusStore, string> _directories = new(ReferenceEqualityComparer.Instance);

    public ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        var store = new FileStore(new FileStoreOptions { Directory = directory }, TimeProvider.System);
        _directories[store] = directory;
        return ValueTask.FromResult<ITusStore>(store);
    }

    public ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken)
    {
        if (_directories.TryRemove(store, out var directory) && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

// The core suite measures the process's allocations, so it joins the collection that runs alone.
[Collection(nameof(AllocationMeasurements))]
public sealed class FileStoreCoreConformanceTests(FileStoreConformanceFixture fixture) : StoreConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreReadBackConformanceTests(FileStoreConformanceFixture fixture) : ReadBackConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreTerminationConformanceTests(FileStoreConformanceFixture fixture) : TerminationConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreConcatenationConformanceTests(FileStoreConformanceFixture fixture) : ConcatenationConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreDeferredLengthConformanceTests(FileStoreConformanceFixture fixture) : DeferredLengthConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreExpirationConformanceTests(FileStoreConformanceFixture fixture) : ExpirationConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreChecksumConformanceTests(FileStoreConformanceFixture fixture) : ChecksumConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreListingConformanceTests(FileStoreConformanceFixture fixture) : ListingConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreProtocolConformanceTests(FileStoreConformanceFixture fixture) : ProtocolConformanceTests<FileStoreConformanceFixture>(fixture);

public sealed class FileStoreConformanceCoverageTests(FileStoreConformanceFixture fixture) : ConformanceCoverageTests<FileStoreConformanceFixture>(fixture);
