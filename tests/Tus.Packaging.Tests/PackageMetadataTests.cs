using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Tus.Packaging.Tests;

/// <summary>
/// What a developer sees of each package on a feed and in a debugger: icon, README, license, copyright, tags, an
/// embedded PDB built deterministically with normalised paths, and the repository it came from when the clone has one.
/// </summary>
public sealed class PackageMetadataTests(PackedLibraries packed) : IClassFixture<PackedLibraries>
{
    // SourceLink's entry in a portable PDB's custom debug information (the Portable PDB specification's GUID).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static TheoryData<string> Libraries() =>
        new(["Tus.Core", "Tus.AspNetCore", "Tus.Stores.File", "Tus.Stores.S3", "Tus.Stores.Limited", "Tus.Lockers.Memory", "Tus.Lockers.Consul", "Tus.Conformance"]);

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Package_Metadata_HasIconReadmeLicenseCopyrightAndDescription(string id)
    {
        var package = Nuspec.Read(Library(id).Path);

        package.Value("version").Should().Be(packed.Version);
        package.Value("description").Should().NotBeNullOrWhiteSpace();
        package.Value("copyright").Should().StartWith("Copyright");
        package.Value("license").Should().Be("MIT");
        package.Value("authors").Should().NotBeNullOrWhiteSpace();
        var icon = package.Value("icon");
        icon.Should().NotBeNullOrEmpty($"{id} shows an icon on its NuGet page");
        package.Entry(icon!).Take(8).Should().Equal(PngSignature, $"{id}'s icon {icon} is a PNG");
        package.Entry(package.Value("readme")!).Should().NotBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Package_Tags_AreTrueForThePackage(string id)
    {
        var tags = Nuspec.Read(Library(id).Path).Value("tags")!.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        tags.Should().Contain(["tus", "resumable", "upload"]);
        var usesAspNetCore = Library(id).FrameworkReferences.Any(r => r.Name == "Microsoft.AspNetCore.App");
        tags.Contains("aspnetcore").Should().Be(usesAspNetCore, $"{id} is tagged aspnetcore only if it uses ASP.NET Core (tags: {string.Join(' ', tags)})");
        if (!id.StartsWith("Tus.Stores.", StringComparison.Ordinal) && id != "Tus.Conformance")
        {
            tags.Should().NotContain("store");
        }

        if (id.StartsWith("Tus.Stores.", StringComparison.Ordinal))
        {
            tags.Should().Contain("store");
        }
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Package_Assemblies_EmbedADeterministicPdbWithNormalisedPaths(string id)
    {
        var package = Nuspec.Read(Library(id).Path);
        package.Files.Should().NotContain(f => f.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase), "the PDB is embedded in the dll");
        File.Exists(Path.ChangeExtension(Library(id).Path, ".snupkg")).Should().BeFalse("symbols are embedded, not a symbol package a folder feed cannot serve");

        foreach (var framework in new[] { "net8.0", "net10.0" })
        {
            using var pe = new PEReader(new MemoryStream(package.Entry($"lib/{framework}/{id}.dll")));
            var debugEntries = pe.ReadDebugDirectory();
            debugEntries.Should().Contain(e => e.Type == DebugDirectoryEntryType.Reproducible, $"{id} ({framework}) is a deterministic build");
            var embedded = debugEntries.Where(e => e.Type == DebugDirectoryEntryType.EmbeddedPortablePdb).ToArray();
            embedded.Should().ContainSingle($"{id} ({framework}) embeds its PDB");

            using var pdbProvider = pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded[0]);
            var pdb = pdbProvider.GetMetadataReader();
            var documents = pdb.Documents.Select(h => pdb.GetString(pdb.GetDocument(h).Name)).ToArray();
            documents.Should().NotBeEmpty();
            documents.Should().OnlyContain(
                d => d.StartsWith("/_/", StringComparison.Ordinal),
                $"{id} ({framework}) is a CI build whose source paths do not reveal the build machine");
            documents.Should().Contain(d => d.StartsWith($"/_/{id}/", StringComparison.Ordinal), "the sources are mapped from the repository root");

            var hasSourceLink = pdb.GetCustomDebugInformation(EntityHandle.ModuleDefinition)
                .Any(h => pdb.GetGuid(pdb.GetCustomDebugInformation(h).Kind) == SourceLinkKind);
            if (Git.ServerOriginUrl(packed.Root) is { } origin && Git.SourceLinkKnowsHost(origin))
            {
                hasSourceLink.Should().BeTrue($"{id} ({framework}) maps its sources to the commit in origin (SourceLink)");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Package_Repository_IsTheCommitPackedAndOriginOnlyWhenThereIsOne(string id)
    {
        var repository = Nuspec.Read(Library(id).Path).Element("repository");
        var origin = Git.ServerOriginUrl(packed.Root);

        repository.Should().NotBeNull($"{id} records the commit it was built from");
        var commit = repository!.Attribute("commit")?.Value;
        commit.Should().MatchRegex("^[0-9a-f]{40}$");
        Git.Run(packed.Root, "cat-file", "-e", commit + "^{commit}").ExitCode.Should().Be(0, $"{commit} is a commit of this clone");

        var url = repository.Attribute("url")?.Value;
        var projectUrl = Nuspec.Read(Library(id).Path).Value("projectUrl");
        if (origin is null)
        {
            url.Should().BeNull("a clone whose origin is missing or a local path has no repository URL, and none is invented");
            projectUrl.Should().BeNull();
        }
        else if (origin.StartsWith("http", StringComparison.Ordinal))
        {
            url.Should().Be(origin);
            if (origin.StartsWith("https://", StringComparison.Ordinal))
            {
                projectUrl.Should().Be(origin.EndsWith(".git", StringComparison.Ordinal) ? origin[..^4] : origin);
            }
        }
    }

    private Package Library(string id) =>
        packed.Packages.TryGetValue(id, out var package) ? package : throw new InvalidOperationException($"{id}.{packed.Version}.nupkg was not packed");
}

/// <summary>A package's nuspec metadata and its files, read from the .nupkg.</summary>
internal sealed class Nuspec
{
    private readonly Dictionary<string, byte[]> _entries;

    private Nuspec(XElement metadata, Dictionary<string, byte[]> entries)
    {
        Metadata = metadata;
        _entries = entries;
    }

    public XElement Metadata { get; }

    public IEnumerable<string> Files => _entries.Keys;

    public static Nuspec Read(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            entries[entry.FullName] = buffer.ToArray();
        }

        var nuspec = entries.Single(e => !e.Key.Contains('/', StringComparison.Ordinal) && e.Key.EndsWith(".nuspec", StringComparison.Ordinal));
        var document = XDocument.Load(new MemoryStream(nuspec.Value));
        return new Nuspec(document.Root!.Elements().Single(e => e.Name.LocalName == "metadata"), entries);
    }

    public XElement? Element(string name) => Metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name);

    public string? Value(string name) => Element(name)?.Value;

    public byte[] Entry(string path) =>
        _entries.TryGetValue(path, out var bytes) ? bytes : throw new FileNotFoundException($"{path} is not in the package (it has {string.Join(", ", _entries.Keys)})");
}

internal static class Git
{
    /// <summary>The clone's origin URL, or null when it has none (or git is missing).</summary>
    public static string? OriginUrl(string root)
    {
        var (exitCode, output) = Run(root, "remote", "get-url", "origin");
        return exitCode == 0 && output.Trim() is { Length: > 0 } url ? url : null;
    }

    /// <summary>
    /// The origin URL when it names a server (http, https or ssh), which a package's repository URL and SourceLink can
    /// point at; null when there is no origin or it is a local path (a clone of a clone, as CI makes).
    /// </summary>
    public static string? ServerOriginUrl(string root)
    {
        var url = OriginUrl(root);
        if (url is null)
        {
            return null;
        }

        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "ssh")
        {
            return url;
        }

        // scp-like ssh: user@host:path
        var at = url.IndexOf('@', StringComparison.Ordinal);
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        return at > 0 && colon > at && !url.StartsWith('/') ? url : null;
    }

    /// <summary>Whether the SDK's SourceLink has a provider for the URL's host (others get no source mapping).</summary>
    public static bool SourceLinkKnowsHost(string url) =>
        SourceLinkHosts.Any(host => url.Contains(host, StringComparison.OrdinalIgnoreCase));

    private static readonly string[] SourceLinkHosts = ["github.com", "gitlab.com", "bitbucket.org", "dev.azure.com", "visualstudio.com"];

    public static (int ExitCode, string Output) Run(string root, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = errors.Result;
        return (process.ExitCode, output);
    }
}
