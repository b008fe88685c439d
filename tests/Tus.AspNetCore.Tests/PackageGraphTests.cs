using Microsoft.AspNetCore.Builder;

namespace Tus.AspNetCore.Tests;

/// <summary>The package graph as a rule: the engine needs no web framework, and the web adapter no store or locker.</summary>
public sealed class PackageGraphTests
{
    [Fact]
    public void TusCore_ReferencesNoWebFrameworkStoreOrLocker()
    {
        var references = typeof(TusEngine).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        references.Should().NotContain(n => n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        references.Should().NotContain(n => n.StartsWith("Tus.", StringComparison.Ordinal));
    }

    [Fact]
    public void TusAspNetCore_ReferencesTusCoreButNoStoreOrLocker()
    {
        var references = typeof(TusEndpointRouteBuilderExtensions).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        references.Should().Contain("Tus.Core");
        references.Should().NotContain(n => n.StartsWith("Tus.Stores", StringComparison.Ordinal) || n.StartsWith("Tus.Lockers", StringComparison.Ordinal));
    }
}
