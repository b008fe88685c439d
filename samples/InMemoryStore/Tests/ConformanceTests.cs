using Tus.Conformance;
using Xunit;

namespace Contoso.Tus.Tests;

// The core suites every store runs.
public sealed class InMemoryStoreConformanceTests(InMemoryStoreFixture fixture) : StoreConformanceTests<InMemoryStoreFixture>(fixture)
{
    // A deliberate divergence, documented: it reports as skipped, with the reason.
    public override Task AppendAsync_LargeNonSeekableStream_StreamsWithBoundedMemory()
    {
        Assert.Skip("InMemoryTusStore keeps every upload in memory by design: appending 64 MiB allocates 64 MiB.");
        return Task.CompletedTask;
    }
}

public sealed class InMemoryStoreReadBackConformanceTests(InMemoryStoreFixture fixture) : ReadBackConformanceTests<InMemoryStoreFixture>(fixture);

// One suite per capability the store declares (it does not offer concatenation).
public sealed class InMemoryStoreTerminationConformanceTests(InMemoryStoreFixture fixture) : TerminationConformanceTests<InMemoryStoreFixture>(fixture);

public sealed class InMemoryStoreDeferredLengthConformanceTests(InMemoryStoreFixture fixture) : DeferredLengthConformanceTests<InMemoryStoreFixture>(fixture);

public sealed class InMemoryStoreExpirationConformanceTests(InMemoryStoreFixture fixture) : ExpirationConformanceTests<InMemoryStoreFixture>(fixture);

public sealed class InMemoryStoreChecksumConformanceTests(InMemoryStoreFixture fixture) : ChecksumConformanceTests<InMemoryStoreFixture>(fixture);

public sealed class InMemoryStoreListingConformanceTests(InMemoryStoreFixture fixture) : ListingConformanceTests<InMemoryStoreFixture>(fixture);

// The tus engine over the store, driven in memory with the built-in locker; the concatenation scenarios report as skipped.
public sealed class InMemoryStoreProtocolConformanceTests(InMemoryStoreFixture fixture) : ProtocolConformanceTests<InMemoryStoreFixture>(fixture);

// Fails if the store declares a capability whose suite is missing above.
public sealed class InMemoryStoreConformanceCoverageTests(InMemoryStoreFixture fixture) : ConformanceCoverageTests<InMemoryStoreFixture>(fixture);
