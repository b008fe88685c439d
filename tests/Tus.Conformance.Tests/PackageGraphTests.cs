namespace Tus.Conformance.Tests;

/// <summary>The conformance package depends on Tus.Core and xunit only: a store author's test project pulls in no web
/// framework and no locker package.</summary>
public sealed class PackageGraphTests
{
    [Fact]
    public void ConformanceAssembly_References_OnlyTusCoreXunitAndTheRuntime()
    {
        var referenced = typeof(StoreConformanceTests<>).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        referenced.Should().Contain("Tus.Core");
        referenced.Where(name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || (name.StartsWith("Tus.", StringComparison.Ordinal) && name != "Tus.Core"))
            .Should().BeEmpty("Tus.Conformance must depend on Tus.Core and xunit only");
    }
}
