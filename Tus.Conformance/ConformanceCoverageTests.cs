using System.Reflection;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// Fails when the store declares a capability whose suite the test project does not run for the same fixture, so a
/// capability added to a store (or a wrapper that forwards one) can never go untested. It requires a concrete subclass,
/// in the test assembly, of <see cref="StoreConformanceTests{TFixture}"/> and
/// <see cref="ReadBackConformanceTests{TFixture}"/> always, of each capability suite the store declares, and of
/// <see cref="ProtocolConformanceTests{TFixture}"/> when the fixture implements <see cref="IProtocolFixture"/>.
/// </summary>
/// <typeparam name="TFixture">The fixture whose store is checked.</typeparam>
public abstract class ConformanceCoverageTests<TFixture> : IClassFixture<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>Creates the test over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected ConformanceCoverageTests(TFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        Fixture = fixture;
    }

    /// <summary>The fixture.</summary>
    protected TFixture Fixture { get; }

    /// <summary>The assembly searched for the suites' subclasses: the one that declares this test's concrete class.</summary>
    protected virtual Assembly TestAssembly => GetType().Assembly;

    /// <summary>Every suite the store's declared capabilities call for is subclassed for this fixture in the test
    /// assembly.</summary>
    [Fact]
    public virtual async Task Suites_ForEveryDeclaredCapability_AreSubclassed()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var store = await Fixture.CreateStoreAsync(cancellationToken);
        List<(Type Suite, string Reason)> required;
        try
        {
            required = RequiredSuites(store);
        }
        finally
        {
            await Fixture.DisposeStoreAsync(store, CancellationToken.None);
        }

        var concrete = TestAssembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false }).ToList();
        var missing = required
            .Where(r => !concrete.Exists(r.Suite.IsAssignableFrom))
            .Select(r => $"  - {SuiteName(r.Suite)}: {r.Reason}")
            .ToList();

        Assert.True(
            missing.Count == 0,
            $"{TestAssembly.GetName().Name} declares no concrete subclass of these suites for {typeof(TFixture).Name}:{Environment.NewLine}{string.Join(Environment.NewLine, missing)}{Environment.NewLine}" +
            $"Add, for example, 'public sealed class MyTerminationTests(MyFixture f) : TerminationConformanceTests<MyFixture>(f);'.");
    }

    private static List<(Type Suite, string Reason)> RequiredSuites(ITusStore store)
    {
        var name = store.GetType().Name;
        var required = new List<(Type, string)>
        {
            (typeof(StoreConformanceTests<TFixture>), "every store implements the core contract"),
            (typeof(ReadBackConformanceTests<TFixture>), "every store reads uploads back"),
        };
        AddIf(store.Termination is not null, typeof(TerminationConformanceTests<TFixture>), $"{name}.Termination is not null");
        AddIf(store.Concatenation is not null, typeof(ConcatenationConformanceTests<TFixture>), $"{name}.Concatenation is not null");
        AddIf(store.DeferredLength is not null, typeof(DeferredLengthConformanceTests<TFixture>), $"{name}.DeferredLength is not null");
        AddIf(store.Expiration is not null, typeof(ExpirationConformanceTests<TFixture>), $"{name}.Expiration is not null");
        AddIf(store.Checksum is not null, typeof(ChecksumConformanceTests<TFixture>), $"{name}.Checksum is not null");
        AddIf(store.Listing is not null, typeof(ListingConformanceTests<TFixture>), $"{name}.Listing is not null");
        if (typeof(IProtocolFixture).IsAssignableFrom(typeof(TFixture)))
        {
            required.Add((typeof(ProtocolConformanceTests<>).MakeGenericType(typeof(TFixture)), $"{typeof(TFixture).Name} implements IProtocolFixture"));
        }

        return required;

        void AddIf(bool declared, Type suite, string reason)
        {
            if (declared)
            {
                required.Add((suite, reason));
            }
        }
    }

    private static string SuiteName(Type suite) => $"{suite.Name[..suite.Name.IndexOf('`', StringComparison.Ordinal)]}<{typeof(TFixture).Name}>";
}
