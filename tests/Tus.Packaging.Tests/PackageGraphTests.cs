namespace Tus.Packaging.Tests;

/// <summary>The package graph is a rule, checked here on the packed packages rather than hoped for.</summary>
public sealed class PackageGraphTests(PackedLibraries packed) : IClassFixture<PackedLibraries>
{
    // Storage SDKs and service clients a store or locker package brings; the core must bring none of them.
    private static readonly string[] StorageSdkPrefixes =
    [
        "AWSSDK.", "Azure.", "Google.Cloud.", "Google.Apis.", "Minio", "Consul", "StackExchange.Redis", "Npgsql",
        "Microsoft.Data.", "MongoDB.", "dotnet-etcd", "Grpc.",
    ];

    [Fact]
    public void Pack_EveryLibraryFolder_IsAPackage()
    {
        packed.ExpectedIds.Should().Contain(["Tus.Core", "Tus.AspNetCore", "Tus.Stores.File", "Tus.Stores.Limited", "Tus.Lockers.Memory", "Tus.Conformance"]);
        packed.Packages.Keys.Should().BeEquivalentTo(packed.ExpectedIds, $"every library folder is packed as version {packed.Version}");
    }

    [Fact]
    public void TusCore_Dependencies_IncludeNoWebFrameworkNoStorageSdkAndNoOtherTusPackage()
    {
        var core = packed.Packages["Tus.Core"];

        core.FrameworkReferences.Should().BeEmpty($"Tus.Core must not need a web framework; it declares {core.Describe()}");
        core.Dependencies.Should().NotContain(d => IsAspNetCore(d.Id), core.Describe());
        core.Dependencies.Should().NotContain(d => StorageSdkPrefixes.Any(p => d.Id.StartsWith(p, StringComparison.OrdinalIgnoreCase)), core.Describe());
        core.Dependencies.Should().NotContain(d => d.Id.StartsWith("Tus.", StringComparison.Ordinal), core.Describe());
        core.Dependencies.Select(d => d.Id).Should().Contain("Microsoft.Extensions.DependencyInjection.Abstractions", "AddTus() and ITusBuilder live in Tus.Core");
    }

    [Fact]
    public void StoresAndLockers_Dependencies_IncludeNoAspNetCore()
    {
        var backends = packed.Packages.Values.Where(p => p.Id.StartsWith("Tus.Stores.", StringComparison.Ordinal) || p.Id.StartsWith("Tus.Lockers.", StringComparison.Ordinal)).ToArray();

        backends.Should().NotBeEmpty();
        foreach (var package in backends)
        {
            package.FrameworkReferences.Should().BeEmpty($"{package.Id} must not need ASP.NET Core; it declares {package.Describe()}");
            package.Dependencies.Should().NotContain(d => IsAspNetCore(d.Id) || d.Id == "Tus.AspNetCore", $"{package.Id} declares {package.Describe()}");
            package.Dependencies.Select(d => d.Id).Should().Contain("Tus.Core", $"{package.Id} implements the contracts of Tus.Core");
        }
    }

    [Fact]
    public void TusAspNetCore_Dependencies_IncludeNoStoreOrLocker()
    {
        var host = packed.Packages["Tus.AspNetCore"];

        host.Dependencies.Should().NotContain(
            d => d.Id.StartsWith("Tus.Stores.", StringComparison.Ordinal) || d.Id.StartsWith("Tus.Lockers.", StringComparison.Ordinal),
            $"Tus.AspNetCore maps endpoints and references no store or locker; it declares {host.Describe()}");
        host.Dependencies.Select(d => d.Id).Should().Contain("Tus.Core");
    }

    [Fact]
    public void TusConformance_Dependencies_AreTusCoreAndXunitOnly()
    {
        var conformance = packed.Packages["Tus.Conformance"];

        conformance.FrameworkReferences.Should().BeEmpty($"a store author running the suites must not get ASP.NET Core; it declares {conformance.Describe()}");
        conformance.Dependencies.Should().OnlyContain(
            d => d.Id == "Tus.Core" || d.Id.StartsWith("xunit.", StringComparison.Ordinal),
            $"Tus.Conformance may depend on Tus.Core and xunit only; it declares {conformance.Describe()}");
    }

    [Fact]
    public void EveryPackage_TargetsNet8AndNet10WithDocsAndReadme()
    {
        foreach (var package in packed.Packages.Values)
        {
            foreach (var framework in new[] { "net8.0", "net10.0" })
            {
                package.Files.Should().Contain($"lib/{framework}/{package.Id}.dll", $"{package.Id} targets {framework}");
                package.Files.Should().Contain($"lib/{framework}/{package.Id}.xml", $"{package.Id} ships its XML docs for {framework}");
            }

            package.Readme.Should().NotBeNullOrEmpty($"{package.Id} shows a README on its NuGet page");
            package.Files.Should().Contain(package.Readme!);
            package.License.Should().Be("MIT");
        }
    }

    private static bool IsAspNetCore(string id) =>
        id.StartsWith("Microsoft.AspNetCore", StringComparison.OrdinalIgnoreCase) || id.Equals("Microsoft.AspNetCore.App", StringComparison.OrdinalIgnoreCase);
}
