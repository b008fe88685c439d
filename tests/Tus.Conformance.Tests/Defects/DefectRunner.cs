using System.Reflection;
using Tus.Conformance.Tests.Reference;
using Xunit.Sdk;

namespace Tus.Conformance.Tests.Defects;

/// <summary>Runs one test of a suite the way xunit would (initialize, run, dispose), against a fixture of our choosing.</summary>
internal static class DefectRunner
{
    public static readonly Type[] SuiteDefinitions =
    [
        typeof(StoreConformanceTests<>), typeof(ReadBackConformanceTests<>), typeof(TerminationConformanceTests<>),
        typeof(ConcatenationConformanceTests<>), typeof(DeferredLengthConformanceTests<>), typeof(ExpirationConformanceTests<>),
        typeof(ChecksumConformanceTests<>), typeof(ListingConformanceTests<>), typeof(ProtocolConformanceTests<>), typeof(LockerConformanceTests<>),
        typeof(ConformanceCoverageTests<>),
    ];

    /// <summary>The suite (generic definition) a concrete test class derives from.</summary>
    public static Type SuiteOf(Type testClass)
    {
        for (var type = testClass; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && SuiteDefinitions.Contains(type.GetGenericTypeDefinition()))
            {
                return type.GetGenericTypeDefinition();
            }
        }

        throw new ArgumentException($"{testClass.Name} derives from no conformance suite.", nameof(testClass));
    }

    /// <summary>The fixture type a concrete test class is constructed with.</summary>
    public static Type FixtureOf(Type testClass) => testClass.GetConstructors().Single().GetParameters().Single().ParameterType;

    /// <summary>Creates the fixture for a defect: a reference store or locker that breaks it, or a fixture type that
    /// embodies it.</summary>
    public static object CreateFixture(Type fixtureType, string defect)
    {
        object?[] arguments = Enum.TryParse<StoreDefect>(defect, out var storeDefect) && typeof(ReferenceStoreFixture).IsAssignableFrom(fixtureType) ? [storeDefect]
            : Enum.TryParse<LockerDefect>(defect, out var lockerDefect) && typeof(ReferenceLockerFixture).IsAssignableFrom(fixtureType) ? [lockerDefect]
            : [];
        return Activator.CreateInstance(fixtureType, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, arguments, null)!;
    }

    /// <summary>Runs <paramref name="test"/> of <paramref name="testClass"/> over <paramref name="fixture"/>; returns what it
    /// threw, or <see langword="null"/> when it passed.</summary>
    public static async Task<Exception?> RunAsync(Type testClass, string test, object fixture)
    {
        var method = testClass.GetMethod(test, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new ArgumentException($"{testClass.Name} has no test {test}.", nameof(test));
        var suite = Activator.CreateInstance(testClass, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, [fixture], null)!;
        var lifetime = suite as IAsyncLifetime;
        try
        {
            if (lifetime is not null)
            {
                await lifetime.InitializeAsync();
            }

            await ((Task)method.Invoke(suite, null)!).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
            return null;
        }
        catch (Exception exception)
        {
            return exception is TargetInvocationException { InnerException: { } inner } ? inner : exception;
        }
        finally
        {
            if (lifetime is not null)
            {
                await lifetime.DisposeAsync();
            }

            (fixture as IDisposable)?.Dispose();
        }
    }

    /// <summary>Whether an exception is xunit's dynamic skip rather than a failure.</summary>
    public static bool IsSkip(Exception exception) =>
        exception is SkipException || exception.Message.StartsWith("$XunitDynamicSkip$", StringComparison.Ordinal);

    /// <summary>The test methods a suite declares.</summary>
    public static IEnumerable<MethodInfo> TestsOf(Type suiteDefinition) =>
        suiteDefinition.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null);
}
