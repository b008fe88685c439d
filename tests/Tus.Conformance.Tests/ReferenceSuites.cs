using Tus.Conformance.Tests.Reference;

namespace Tus.Conformance.Tests;

// Every suite, run by xunit against the correct reference implementations: they must pass. The defect tests construct
// the same classes with fixtures that break one rule each, and show that the tests aimed at that rule fail.

/// <summary>The core suites measure allocations of the whole process, so they run alone.</summary>
[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

[Collection(nameof(AllocationMeasurements))]
public sealed class ReferenceStoreConformanceTests(ReferenceStoreFixture fixture) : StoreConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceReadBackConformanceTests(ReferenceStoreFixture fixture) : ReadBackConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceTerminationConformanceTests(ReferenceStoreFixture fixture) : TerminationConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceConcatenationConformanceTests(ReferenceStoreFixture fixture) : ConcatenationConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceDeferredLengthConformanceTests(ReferenceStoreFixture fixture) : DeferredLengthConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceExpirationConformanceTests(ReferenceStoreFixture fixture) : ExpirationConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceChecksumConformanceTests(ReferenceStoreFixture fixture) : ChecksumConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceListingConformanceTests(ReferenceStoreFixture fixture) : ListingConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceProtocolConformanceTests(ReferenceStoreFixture fixture) : ProtocolConformanceTests<ReferenceStoreFixture>(fixture);

public sealed class ReferenceConformanceCoverageTests(ReferenceStoreFixture fixture) : ConformanceCoverageTests<ReferenceStoreFixture>(fixture);

// A store that cannot read unfinished uploads (ReadsUnfinishedUploads is false): every suite passes, the test of reading
// unfinished data reports skipped.

[Collection(nameof(AllocationMeasurements))]
public sealed class CompleteReadsOnlyStoreConformanceTests(CompleteReadsOnlyStoreFixture fixture) : StoreConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyReadBackConformanceTests(CompleteReadsOnlyStoreFixture fixture) : ReadBackConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyTerminationConformanceTests(CompleteReadsOnlyStoreFixture fixture) : TerminationConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyConcatenationConformanceTests(CompleteReadsOnlyStoreFixture fixture) : ConcatenationConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyDeferredLengthConformanceTests(CompleteReadsOnlyStoreFixture fixture) : DeferredLengthConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyExpirationConformanceTests(CompleteReadsOnlyStoreFixture fixture) : ExpirationConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyChecksumConformanceTests(CompleteReadsOnlyStoreFixture fixture) : ChecksumConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyListingConformanceTests(CompleteReadsOnlyStoreFixture fixture) : ListingConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyProtocolConformanceTests(CompleteReadsOnlyStoreFixture fixture) : ProtocolConformanceTests<CompleteReadsOnlyStoreFixture>(fixture);

public sealed class CompleteReadsOnlyConformanceCoverageTests(CompleteReadsOnlyStoreFixture fixture) : ConformanceCoverageTests<CompleteReadsOnlyStoreFixture>(fixture);

// A store that declares no capability: the core suites pass, and the protocol suite reports its capability scenarios
// as skipped.

[Collection(nameof(AllocationMeasurements))]
public sealed class MinimalStoreConformanceTests(MinimalStoreFixture fixture) : StoreConformanceTests<MinimalStoreFixture>(fixture);

public sealed class MinimalStoreReadBackConformanceTests(MinimalStoreFixture fixture) : ReadBackConformanceTests<MinimalStoreFixture>(fixture);

public sealed class MinimalStoreProtocolConformanceTests(MinimalStoreFixture fixture) : ProtocolConformanceTests<MinimalStoreFixture>(fixture);

public sealed class MinimalStoreConformanceCoverageTests(MinimalStoreFixture fixture) : ConformanceCoverageTests<MinimalStoreFixture>(fixture);

// Lockers: in-process (leases cannot be lost: that test reports skipped) and leased (peers are separate clients).

public sealed class ReferenceLockerConformanceTests(ReferenceLockerFixture fixture) : LockerConformanceTests<ReferenceLockerFixture>(fixture)
{
    // In-process and fast: a short bound keeps the runs against broken lockers quick.
    protected override TimeSpan Patience => TimeSpan.FromSeconds(2);
}

public sealed class LeasedReferenceLockerConformanceTests(LeasedReferenceLockerFixture fixture) : LockerConformanceTests<LeasedReferenceLockerFixture>(fixture)
{
    protected override TimeSpan Patience => TimeSpan.FromSeconds(2);
}

// The locker the protocol suite uses by default must itself be correct.
public sealed class InProcessLockerConformanceTests(InProcessLockerFixture fixture) : LockerConformanceTests<InProcessLockerFixture>(fixture);

/// <summary>A store with every capability whose capability suites this assembly does not subclass.</summary>
public sealed class UncoveredStoreFixture : ReferenceStoreFixture;

/// <summary>The coverage test for <see cref="UncoveredStoreFixture"/>: internal, so xunit does not run it; the defect
/// tests run it to show that it fails.</summary>
internal sealed class UncoveredStoreConformanceCoverageTests(UncoveredStoreFixture fixture) : ConformanceCoverageTests<UncoveredStoreFixture>(fixture);
