using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Tus.Packaging.Tests;

/// <summary>
/// The repository's libraries as packed .nupkg files. eng/test.sh packs once and passes the version in
/// TUS_PACKAGE_VERSION; run alone, the fixture runs eng/pack.sh itself.
/// </summary>
public sealed class PackedLibraries
{
    public PackedLibraries()
    {
        Root = FindRepositoryRoot();
        var feed = Path.Combine(Root, "artifacts", "packages");
        var version = Environment.GetEnvironmentVariable("TUS_PACKAGE_VERSION");
        if (string.IsNullOrWhiteSpace(version) || !Directory.EnumerateFiles(feed, $"Tus.Core.{version}.nupkg").Any())
        {
            version = Pack();
        }

        Version = version;
        ExpectedIds = Directory.EnumerateDirectories(Root, "Tus.*")
            .Select(Path.GetFileName)
            .Where(name => File.Exists(Path.Combine(Root, name!, name + ".csproj")) && File.Exists(Path.Combine(Root, name!, "PublicAPI.Shipped.txt")))
            .Select(name => name!)
            .Order(StringComparer.Ordinal)
            .ToArray();
        Packages = ExpectedIds
            .Select(id => Path.Combine(feed, $"{id}.{version}.nupkg"))
            .Where(File.Exists)
            .Select(Package.Read)
            .ToDictionary(p => p.Id, StringComparer.Ordinal);
    }

    public string Root { get; }

    public string Version { get; }

    /// <summary>Every top-level library folder (one with a tracked public API): each must be a package.</summary>
    public IReadOnlyList<string> ExpectedIds { get; }

    public IReadOnlyDictionary<string, Package> Packages { get; }

    private string Pack()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Root, "eng", "pack.sh")])
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"eng/pack.sh failed ({process.ExitCode}):{Environment.NewLine}{output}{errors.Result}");
        }

        return output.TrimEnd().Split('\n')[^1].Trim();
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tus.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Tus.slnx was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>What a .nupkg declares: its dependencies and framework references per target framework, and its files.</summary>
public sealed record Package(string Id, string Path, IReadOnlyList<(string Framework, string Id)> Dependencies, IReadOnlyList<(string Framework, string Name)> FrameworkReferences, IReadOnlyList<string> Files, string? Readme, string? License)
{
    public static Package Read(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var nuspecEntry = zip.Entries.Single(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        XDocument nuspec;
        using (var stream = nuspecEntry.Open())
        {
            nuspec = XDocument.Load(stream);
        }

        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        XElement? Element(XElement parent, string name) => parent.Elements().FirstOrDefault(e => e.Name.LocalName == name);
        var id = Element(metadata, "id")!.Value;
        var dependencies = new List<(string, string)>();
        if (Element(metadata, "dependencies") is { } dependencyRoot)
        {
            foreach (var group in dependencyRoot.Elements().Where(e => e.Name.LocalName == "group"))
            {
                var framework = group.Attribute("targetFramework")?.Value ?? "(any)";
                dependencies.AddRange(group.Elements().Where(e => e.Name.LocalName == "dependency").Select(d => (framework, d.Attribute("id")!.Value)));
            }

            dependencies.AddRange(dependencyRoot.Elements().Where(e => e.Name.LocalName == "dependency").Select(d => ("(any)", d.Attribute("id")!.Value)));
        }

        var frameworkReferences = new List<(string, string)>();
        if (Element(metadata, "frameworkReferences") is { } referenceRoot)
        {
            foreach (var group in referenceRoot.Elements().Where(e => e.Name.LocalName == "group"))
            {
                var framework = group.Attribute("targetFramework")?.Value ?? "(any)";
                frameworkReferences.AddRange(group.Elements().Where(e => e.Name.LocalName == "frameworkReference").Select(r => (framework, r.Attribute("name")!.Value)));
            }
        }

        return new Package(
            id,
            path,
            dependencies,
            frameworkReferences,
            zip.Entries.Select(e => e.FullName).ToArray(),
            Element(metadata, "readme")?.Value,
            Element(metadata, "license")?.Value);
    }

    /// <summary>Every dependency and framework reference, as "framework: id", for failure messages.</summary>
    public string Describe() =>
        string.Join(", ", Dependencies.Select(d => $"{d.Framework}: {d.Id}").Concat(FrameworkReferences.Select(r => $"{r.Framework}: framework {r.Name}")));
}
