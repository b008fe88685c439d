using Tus.Conformance.Tests.Reference;

namespace Tus.Conformance.Tests;

// Every suite, run by xunit against the correct reference implementations: they must pass. The defect tests construct
// the same classes with fixtures that break one rule each, and show that the tests aimed at that rule fail.

/// <summary>The core suites measure allocations of the whole process, so they run alone.</summary>
[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

[Collection(nameof(AllocationMeasurements))]
public sealed class ReferenceStoreTests(ReferenceStoreFixture fixture) : StoreConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceReadBackTests(ReferenceStoreFixture fixture) : ReadBackConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceTerminationTests(ReferenceStoreFixture fixture) : TerminationConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceConcatenationTests(ReferenceStoreFixture fixture) : ConcatenationConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceDeferredLengthTests(ReferenceStoreFixture fixture) : DeferredLengthConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceExpirationTests(ReferenceStoreFixture fixture) : ExpirationConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceChecksumTests(ReferenceStoreFixture fixture) : ChecksumConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceListingTests(ReferenceStoreFixture fixture) : ListingConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceProtocolTests(ReferenceStoreFixture fixture) : ProtocolConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceCoverageTests(ReferenceStoreFixture fixture) : ConformanceCoverageTests<ReferenceStoreFixture>(fixture);

// A store that declares no capability: the core suites pass, and the protocol suite reports its capability scenarios
// as skipped.

[Collection(nameof(AllocationMeasurements))]
public sealed class MinimalStoreTests(MinimalStoreFixture fixture) : StoreConformanceTests<MinimalStoreFixture>(fixture);

public sealed class MinimalStoreReadBackTests(MinimalStoreFixture fixture) : ReadBackConformanceTests<MinimalStoreFixture>(fixture);

public sealed class MinimalStoreProtocolTests(MinimalStoreFixture fixture) : ProtocolConformanceTests<MinimalStoreFixture>(fixture);

public sealed class MinimalStoreCoverageTests(MinimalStoreFixture fixture) : ConformanceCoverageTests<MinimalStoreFixture>(fixture);

// Lockers: in-process (leases cannot be lost: that test reports skipped) and leased (peers are separate clients).

public sealed class ReferenceLockerTests(ReferenceLockerFixture fixture) : LockerConformanceTests<ReferenceLockerFixture>(fixture)
{
    // In-process and fast: a short bound keeps the runs against broken lockers quick.
    protected override TimeSpan Patience => TimeSpan.FromSeconds(2);
}

public sealed class LeasedReferenceLockerTests(LeasedReferenceLockerFixture fixture) : LockerConformanceTests<LeasedReferenceLockerFixture>(fixture)
{
    protected override TimeSpan Patience => TimeSpan.FromSeconds(2);
}

// The locker the protocol suite uses by default must itself be correct.
public sealed class InProcessLockerTests(InProcessLockerFixture fixture) : LockerConformanceTests<InProcessLockerFixture>(fixture);

/// <summary>A store with every capability whose capability suites this assembly does not subclass.</summary>
public sealed class UncoveredStoreFixture : ReferenceStoreFixture;

/// <summary>The coverage test for <see cref="UncoveredStoreFixture"/>: internal, so xunit does not run it; the defect
/// tests run it to show that it fails.</summary>
internal sealed class UncoveredStoreCoverageTests(UncoveredStoreFixture fixture) : ConformanceCoverageTests<UncoveredStoreFixture>(fixture);
