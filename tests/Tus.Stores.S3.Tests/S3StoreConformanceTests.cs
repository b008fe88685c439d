using System.Collections.Concurrent;
using Tus.Conformance;

namespace Tus.Stores.S3.Tests;

/// <summary>Gives each conformance test an <see cref="S3Store"/> over a key prefix of its own in the test bucket of a real
/// S3 server (Ceph RGW from eng/services/ceph.sh), emptied after the test. Without a server the tests report SKIPPED.</summary>
public sealed class S3StoreConformanceFixture : IProtocolFixture
{
    private readonly ConcurrentDictionary<ITusStore, string> _prefixes = new(ReferenceEqualityComparer.Instance);

    /// <summary>S3 cannot read the parts of a multipart upload before it is completed.</summary>
    public bool ReadsUnfinishedUploads => false;

    public async ValueTask<ITusStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var client = await S3TestEnvironment.RequireClientAsync();
        var prefix = S3TestEnvironment.NewPrefix();
        var store = new S3Store(S3TestEnvironment.Options(prefix), client, TimeProvider.System);
        _prefixes[store] = prefix;
        return store;
    }

    public async ValueTask DisposeStoreAsync(ITusStore store, CancellationToken cancellationToken)
    {
        if (_prefixes.TryRemove(store, out var prefix))
        {
            await S3TestEnvironment.CleanAsync(await S3TestEnvironment.RequireClientAsync(), prefix);
        }

        (store as IDisposable)?.Dispose();
    }
}

[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

// The core suite measures the process's allocations, so it joins the collection that runs alone.
[Collection(nameof(AllocationMeasurements))]
public sealed class S3StoreCoreConformanceTests(S3StoreConformanceFixture fixture) : StoreConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreReadBackConformanceTests(S3StoreConformanceFixture fixture) : ReadBackConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreTerminationConformanceTests(S3StoreConformanceFixture fixture) : TerminationConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreConcatenationConformanceTests(S3StoreConformanceFixture fixture) : ConcatenationConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreDeferredLengthConformanceTests(S3StoreConformanceFixture fixture) : DeferredLengthConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreExpirationConformanceTests(S3StoreConformanceFixture fixture) : ExpirationConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreChecksumConformanceTests(S3StoreConformanceFixture fixture) : ChecksumConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreListingConformanceTests(S3StoreConformanceFixture fixture) : ListingConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreProtocolConformanceTests(S3StoreConformanceFixture fixture) : ProtocolConformanceTests<S3StoreConformanceFixture>(fixture);

public sealed class S3StoreConformanceCoverageTests(S3StoreConformanceFixture fixture) : ConformanceCoverageTests<S3StoreConformanceFixture>(fixture);
