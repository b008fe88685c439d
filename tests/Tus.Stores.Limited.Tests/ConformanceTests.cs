using System.Collections.Concurrent;
using Tus.Conformance;

namespace Tus.Stores.Limited.Tests;

/// <summary>
/// The quota the conformance runs put around each store: every limit set, far above what the suites store, so that the
/// wrapper's accounting runs on every call (and deferred-length writes go through its reserving stream) without refusing.
/// </summary>
internal static class ConformanceQuota
{
    public static QuotaOptions Options() => new()
    {
        MaxTotalBytes = 1L << 40,
        MaxUploadBytes = 1L << 36,
        MaxUnfinishedUploads = 1_000_000,
    };
}

[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

/// <summary>Each test gets a <see cref="LimitedStore"/> around a <see cref="FileStore"/> over a temporary directory of its own.</summary>
public sealed class LimitedFileStoreFixture : IProtocolFixture, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tus-limited-conformance", Guid.NewGuid().ToString("N"));
    private readonly ConcurrentDictionary<ITusStore, string> _directories = new(ReferenceEqualityComparer.Instance);

    public ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        var store = new LimitedStore(new FileStore(new FileStoreOptions { Directory = directory }, TimeProvider.System), ConformanceQuota.Options(), TimeProvider.System);
        _directories[store] = directory;
        return ValueTask.FromResult<ITusStore>(store);
    }

    public async ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken)
    {
        await ((LimitedStore)store).DisposeAsync();
        if (_directories.TryRemove(store, out var directory) && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

[Collection(nameof(AllocationMeasurements))]
public sealed class LimitedFileStoreCoreConformanceTests(LimitedFileStoreFixture fixture) : StoreConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreReadBackConformanceTests(LimitedFileStoreFixture fixture) : ReadBackConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreTerminationConformanceTests(LimitedFileStoreFixture fixture) : TerminationConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreConcatenationConformanceTests(LimitedFileStoreFixture fixture) : ConcatenationConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreDeferredLengthConformanceTests(LimitedFileStoreFixture fixture) : DeferredLengthConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreExpirationConformanceTests(LimitedFileStoreFixture fixture) : ExpirationConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreChecksumConformanceTests(LimitedFileStoreFixture fixture) : ChecksumConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreListingConformanceTests(LimitedFileStoreFixture fixture) : ListingConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreProtocolConformanceTests(LimitedFileStoreFixture fixture) : ProtocolConformanceTests<LimitedFileStoreFixture>(fixture);

public sealed class LimitedFileStoreConformanceCoverageTests(LimitedFileStoreFixture fixture) : ConformanceCoverageTests<LimitedFileStoreFixture>(fixture);

/// <summary>Each test gets a <see cref="LimitedStore"/> around an <see cref="S3Store"/> over a key prefix of its own on a
/// real S3 server (Ceph RGW); without one the tests report SKIPPED.</summary>
public sealed class LimitedS3StoreFixture : IProtocolFixture
{
    private readonly ConcurrentDictionary<ITusStore, (S3Store Inner, string Prefix)> _stores = new(ReferenceEqualityComparer.Instance);

    /// <summary>S3 cannot read the parts of a multipart upload before it is completed.</summary>
    public bool ReadsUnfinishedUploads => false;

    public async ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var client = await S3TestEnvironment.RequireClientAsync();
        var prefix = S3TestEnvironment.NewPrefix();
        var inner = new S3Store(S3TestEnvironment.Options(prefix), client, TimeProvider.System);
        var store = new LimitedStore(inner, ConformanceQuota.Options(), TimeProvider.System);
        _stores[store] = (inner, prefix);
        return store;
    }

    public async ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken)
    {
        await ((LimitedStore)store).DisposeAsync();
        if (_stores.TryRemove(store, out var entry))
        {
            await S3TestEnvironment.CleanAsync(await S3TestEnvironment.RequireClientAsync(), entry.Prefix);
            entry.Inner.Dispose();
        }
    }
}

[Collection(nameof(AllocationMeasurements))]
public sealed class LimitedS3StoreCoreConformanceTests(LimitedS3StoreFixture fixture) : StoreConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreReadBackConformanceTests(LimitedS3StoreFixture fixture) : ReadBackConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreTerminationConformanceTests(LimitedS3StoreFixture fixture) : TerminationConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreConcatenationConformanceTests(LimitedS3StoreFixture fixture) : ConcatenationConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreDeferredLengthConformanceTests(LimitedS3StoreFixture fixture) : DeferredLengthConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreExpirationConformanceTests(LimitedS3StoreFixture fixture) : ExpirationConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreChecksumConformanceTests(LimitedS3StoreFixture fixture) : ChecksumConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreListingConformanceTests(LimitedS3StoreFixture fixture) : ListingConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreProtocolConformanceTests(LimitedS3StoreFixture fixture) : ProtocolConformanceTests<LimitedS3StoreFixture>(fixture);

public sealed class LimitedS3StoreConformanceCoverageTests(LimitedS3StoreFixture fixture) : ConformanceCoverageTests<LimitedS3StoreFixture>(fixture);
