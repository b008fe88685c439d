using Tus.Conformance.Tests.Reference;

namespace Tus.Conformance.Tests.Defects;

/// <summary>Each broken store fails the tests aimed at its defect (and fails them, not skips them).</summary>
public sealed class BrokenStoreTests
{
    public static TheoryData<string, string, string> Rows { get; } = DefectTheory.Rows(locker: false);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task SuiteTest_AgainstABrokenStore_Fails(string suite, string test, string defect) => DefectTheory.AssertFailsAsync(suite, test, defect);
}

/// <summary>Each broken locker fails the tests aimed at its defect.</summary>
public sealed class BrokenLockerTests
{
    public static TheoryData<string, string, string> Rows { get; } = DefectTheory.Rows(locker: true);

    [Theory]
    [MemberData(nameof(Rows))]
    public Task SuiteTest_AgainstABrokenLocker_Fails(string suite, string test, string defect) => DefectTheory.AssertFailsAsync(suite, test, defect);
}

internal static class DefectTheory
{
    public static TheoryData<string, string, string> Rows(bool locker)
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (suite, test, defect) in DefectCatalog.Rows.Where(r => (DefectRunner.SuiteOf(r.Suite) == typeof(LockerConformanceTests<>)) == locker))
        {
            data.Add(suite.Name, test, defect);
        }

        return data;
    }

    public static async Task AssertFailsAsync(string suite, string test, string defect)
    {
        var testClass = typeof(DefectTheory).Assembly.GetType($"{typeof(ReferenceStoreConformanceTests).Namespace}.{suite}", throwOnError: true)!;
        var fixture = DefectRunner.CreateFixture(DefectRunner.FixtureOf(testClass), defect);

        var failure = await DefectRunner.RunAsync(testClass, test, fixture);

        failure.Should().NotBeNull($"{suite}.{test} must fail against an implementation with the defect {defect}");
        DefectRunner.IsSkip(failure!).Should().BeFalse($"{suite}.{test} must fail, not skip, against the defect {defect}: {failure!.Message}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{defect} -> {suite}.{test}: {failure.GetType().Name}: {failure.Message.Split('\n')[0].Trim()}");
    }
}

/// <summary>The catalog covers every test and every defect, and the suites keep their promises (public virtual tests,
/// Member_Scenario_Expectation names, capability suites that fail rather than pass without their capability).</summary>
public sealed class DefectCatalogTests
{
    public static TheoryData<string> Suites { get; } = [.. DefectRunner.SuiteDefinitions.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Suites))]
    public void Catalog_EveryTestOfTheSuite_IsShownToFailByADefect(string suite)
    {
        var definition = DefectRunner.SuiteDefinitions.Single(s => s.Name == suite);
        var covered = DefectCatalog.Rows.Where(r => DefectRunner.SuiteOf(r.Suite) == definition).Select(r => r.Test).ToHashSet(StringComparer.Ordinal);

        var tests = DefectRunner.TestsOf(definition).Select(m => m.Name).ToList();

        tests.Should().NotBeEmpty();
        tests.Where(t => !covered.Contains(t)).Should().BeEmpty("every test of {0} must be shown to fail against some broken implementation", suite);
        covered.Should().BeSubsetOf(tests, "every catalog row must name a test of {0}", suite);
    }

    [Fact]
    public void Catalog_EveryDefect_IsAimedAtByATest()
    {
        var aimed = DefectCatalog.Rows.Select(r => r.Defect).ToHashSet(StringComparer.Ordinal);

        Enum.GetNames<StoreDefect>().Concat(Enum.GetNames<LockerDefect>()).Where(d => d != "None").Where(d => !aimed.Contains(d))
            .Should().BeEmpty("every broken implementation must be shown to fail some test");
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Suite_EveryTest_IsPublicVirtualAndNamedMemberScenarioExpectation(string suite)
    {
        var definition = DefectRunner.SuiteDefinitions.Single(s => s.Name == suite);

        foreach (var test in DefectRunner.TestsOf(definition))
        {
            (test.IsVirtual && !test.IsFinal).Should().BeTrue("{0}.{1} must be public virtual so that authors can override it", suite, test.Name);
            test.Name.Split('_').Should().HaveCount(3, "{0}.{1} must be named Member_Scenario_Expectation", suite, test.Name);
            test.ReturnType.Should().Be<Task>();
        }
    }

    public static TheoryData<string, string> CapabilitySuites { get; } = new()
    {
        { nameof(ReferenceTerminationConformanceTests), "DeleteAsync_Twice_SucceedsBothTimes" },
        { nameof(ReferenceConcatenationConformanceTests), "CreateAsync_PartialUpload_KeepsItsRole" },
        { nameof(ReferenceDeferredLengthConformanceTests), "CreateAsync_WithoutLength_DescribesTheLengthAsDeferred" },
        { nameof(ReferenceExpirationConformanceTests), "CreateAsync_WithExpiry_StampsIt" },
        { nameof(ReferenceChecksumConformanceTests), "DiscardFromAsync_Zero_EmptiesTheUpload" },
        { nameof(ReferenceListingConformanceTests), "ListAsync_EmptyStore_ListsNothing" },
    };

    [Theory]
    [MemberData(nameof(CapabilitySuites))]
    public async Task CapabilitySuite_StoreWithoutTheCapability_FailsWithAClearMessage(string suite, string test)
    {
        var testClass = typeof(DefectCatalogTests).Assembly.GetType($"{typeof(ReferenceStoreConformanceTests).Namespace}.{suite}", throwOnError: true)!;

        var failure = await DefectRunner.RunAsync(testClass, test, new MinimalStoreFixture());

        failure.Should().NotBeNull();
        DefectRunner.IsSkip(failure!).Should().BeFalse();
        failure!.Message.Should().Contain("is null, so the store does not offer this capability");
    }

    public static TheoryData<string> ProtocolCapabilityScenarios { get; } =
    [
        "Checksum_MatchingBodies_AreStored", "Checksum_MismatchedBody_Answers460AndDiscardsItsBytes",
        "Concatenation_FinalOfFinishedPartials_HasTheirDataInListedOrder", "Concatenation_FinalBeforePartialsFinish_CompletesOnceTheyDo",
        "Delete_ExistingUpload_IsGoneAfterwards", "Expiration_UnfinishedUploadPastItsExpiry_AnswersGoneAndIsSwept",
        "Expiration_CompleteUpload_IsNeverSwept", "DeferredLength_LengthSentWithALaterPatch_CompletesTheUpload",
    ];

    [Theory]
    [MemberData(nameof(ProtocolCapabilityScenarios))]
    public async Task ProtocolScenario_StoreWithoutTheCapability_ReportsSkipped(string test)
    {
        var failure = await DefectRunner.RunAsync(typeof(MinimalStoreProtocolConformanceTests), test, new MinimalStoreFixture());

        failure.Should().NotBeNull("a scenario whose capability is absent must not pass silently");
        DefectRunner.IsSkip(failure!).Should().BeTrue("it must report itself skipped: {0}", failure!.Message);
    }

    [Fact]
    public async Task ProtocolScenario_StoreThrowsUnexpectedly_ShowsTheEngineLogInTheFailure()
    {
        var fixture = DefectRunner.CreateFixture(typeof(ReferenceStoreFixture), nameof(StoreDefect.AppendRequiresLength));

        var failure = await DefectRunner.RunAsync(typeof(ReferenceProtocolConformanceTests), "DeferredLength_LengthSentWithALaterPatch_CompletesTheUpload", fixture);

        failure.Should().NotBeNull();
        failure!.Message.Should().Contain("answered 500").And.Contain("The engine logged:")
            .And.Contain("The upload's length must be known before data is appended.", "a store author must see why the engine answered 500");
    }

    [Fact]
    public async Task Coverage_ListingDeclaredWithoutItsSuite_FailsNamingTheListingSuite()
    {
        var failure = await DefectRunner.RunAsync(typeof(UncoveredStoreConformanceCoverageTests), "Suites_ForEveryDeclaredCapability_AreSubclassed", new UncoveredStoreFixture());

        failure.Should().NotBeNull();
        failure!.Message.Should().Contain("ListingConformanceTests<UncoveredStoreFixture>: ReferenceStore.Listing is not null");
    }
}
