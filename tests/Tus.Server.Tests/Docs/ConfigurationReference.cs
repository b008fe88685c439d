using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Tus.Server.Tests.Docs;

/// <summary>
/// Renders the generated parts of docs/configuration.md from the code itself: the server's settings from
/// <see cref="ServerSettings.All"/> (the table the flag parser, the environment provider and <c>--help</c> read), and
/// the libraries' options classes from their properties and XML documentation.
/// </summary>
internal static partial class ConfigurationReference
{
    public const string DocumentPath = "docs/configuration.md";

    public const string SettingsSection = "settings";

    public const string OptionsSection = "options";

    /// <summary>What a maintainer runs when a generated section is out of date.</summary>
    public const string RegenerateCommand = "bash eng/update-config-reference.sh";

    /// <summary>The options classes of the packages, in the order the reference lists them, with the README that explains them.</summary>
    public static readonly IReadOnlyList<(Type Type, string Access, string Readme)> OptionsClasses =
    [
        (typeof(TusOptions), "`services.AddTus(o => ...)`, or `AddTus(configuration.GetSection(\"Tus\"))`", "Tus.Core/README.md"),
        (typeof(TusCorsOptions), "`TusOptions.Cors` (configuration: `Cors:...`)", "Tus.Core/README.md"),
        (typeof(Tus.Hooks.TusHookOptions), "`TusOptions.Hooks` (configuration: `Hooks:...`)", "Tus.Core/README.md#hooks"),
        (typeof(TusIetfDraftOptions), "`TusOptions.IetfDraft` (configuration: `IetfDraft:...`)", "Tus.Core/README.md#the-ietf-resumable-upload-draft"),
        (typeof(Tus.Stores.FileStoreOptions), "`.AddFileStore(o => ...)`", "Tus.Stores.File/README.md#options"),
        (typeof(Tus.Stores.S3StoreOptions), "`.AddS3Store(o => ...)`", "Tus.Stores.S3/README.md#options"),
        (typeof(Tus.Stores.QuotaOptions), "`.WithQuota(o => ...)`", "Tus.Stores.Limited/README.md"),
        (typeof(Tus.Lockers.Consul.ConsulLockerOptions), "`.AddConsulLocker(o => ...)`", "Tus.Lockers.Consul/README.md#options"),
    ];

    /// <summary>The settings table: one row per entry of <see cref="ServerSettings.All"/>, in its order.</summary>
    public static string RenderSettings()
    {
        var text = new StringBuilder();
        text.Append("| Flag | Environment variable | Key in `Tus` | Type | Default | Meaning |\n");
        text.Append("| --- | --- | --- | --- | --- | --- |\n");
        foreach (var setting in ServerSettings.All)
        {
            var type = setting.Kind.ToString().ToLowerInvariant();
            var defaultValue = setting.Default.Length == 0 ? "(none)" : Code(setting.Default);
            text.Append(CultureInfo.InvariantCulture,
                $"| {Code(setting.Flag)} | {Code(setting.EnvironmentVariable)} | {Code(setting.Key)} | {type} | {defaultValue} | {Cell(setting.Help)} |\n");
        }

        return text.ToString().TrimEnd('\n');
    }

    /// <summary>One table per options class: each public property, its type and its XML summary (which states the default).</summary>
    public static string RenderOptions()
    {
        var text = new StringBuilder();
        var first = true;
        foreach (var (type, access, readme) in OptionsClasses)
        {
            if (!first)
            {
                text.Append('\n');
            }

            first = false;
            var package = type.Assembly.GetName().Name;
            text.Append(CultureInfo.InvariantCulture, $"### `{type.Name}` ({package})\n\n");
            text.Append(CultureInfo.InvariantCulture, $"Set with {access}; explained in [{readme.Split('#')[0]}](../{readme}).\n\n");
            text.Append("| Property | Type | What it does, and its default |\n");
            text.Append("| --- | --- | --- |\n");
            var docs = XmlDocs.For(type.Assembly);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
            {
                var summary = docs.Summary($"P:{type.FullName}.{property.Name}")
                    ?? throw new InvalidOperationException($"{type.FullName}.{property.Name} has no XML summary: document it (its default included).");
                text.Append(CultureInfo.InvariantCulture, $"| {Code(property.Name)} | {Code(TypeName(property.PropertyType))} | {Cell(summary)} |\n");
            }
        }

        return text.ToString().TrimEnd('\n');
    }

    private static string Code(string value) => "`" + value + "`";

    private static string Cell(string value) => value.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    /// <summary>A C# spelling of a type: <c>long?</c>, <c>IList&lt;string&gt;</c>, <c>TimeSpan</c>.</summary>
    private static string TypeName(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying) + "?";
        }

        if (type.IsGenericType)
        {
            var name = type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)];
            return name + "<" + string.Join(", ", type.GetGenericArguments().Select(TypeName)) + ">";
        }

        return type.FullName switch
        {
            "System.String" => "string",
            "System.Boolean" => "bool",
            "System.Int32" => "int",
            "System.Int64" => "long",
            "System.Double" => "double",
            _ => type.Name,
        };
    }

    /// <summary>An assembly's XML documentation file, read from beside it, with summaries turned into Markdown.</summary>
    private sealed partial class XmlDocs
    {
        private static readonly ConcurrentDictionary<Assembly, XmlDocs> Cache = new();
        private readonly Dictionary<string, XElement> _members;

        private XmlDocs(XDocument document) =>
            _members = document.Descendants("member")
                .Where(m => m.Attribute("name") is not null)
                .ToDictionary(m => m.Attribute("name")!.Value, StringComparer.Ordinal);

        public static XmlDocs For(Assembly assembly) => Cache.GetOrAdd(assembly, static a =>
        {
            var path = Path.ChangeExtension(a.Location, ".xml");
            return File.Exists(path)
                ? new XmlDocs(XDocument.Load(path))
                : throw new FileNotFoundException($"The XML documentation of {a.GetName().Name} is not beside it (GenerateDocumentationFile); the options tables are rendered from it.", path);
        });

        public string? Summary(string member) =>
            _members.TryGetValue(member, out var element) && element.Element("summary") is { } summary
                ? Whitespace().Replace(Markdown(summary), " ").Trim()
                : null;

        private static string Markdown(XElement element)
        {
            var text = new StringBuilder();
            foreach (var node in element.Nodes())
            {
                text.Append(node switch
                {
                    XText plain => plain.Value,
                    XElement { Name.LocalName: "c" } code => Code(code.Value),
                    XElement { Name.LocalName: "see" or "seealso" } see when see.Attribute("langword") is { } word => Code(word.Value),
                    XElement { Name.LocalName: "see" or "seealso" } see when see.Attribute("cref") is { } cref => Code(CrefName(cref.Value)),
                    XElement { Name.LocalName: "paramref" or "typeparamref" } reference => Code(reference.Attribute("name")?.Value ?? ""),
                    XElement { Name.LocalName: "para" or "br" } paragraph => " " + Markdown(paragraph) + " ",
                    XElement other => Markdown(other),
                    _ => "",
                });
            }

            return text.ToString();
        }

        /// <summary><c>T:Tus.TusOptions</c> as <c>TusOptions</c>, <c>P:Tus.TusOptions.Hooks</c> as <c>TusOptions.Hooks</c>.</summary>
        private static string CrefName(string cref)
        {
            var kind = cref.Length > 2 && cref[1] == ':' ? cref[0] : 'T';
            var name = cref.Length > 2 && cref[1] == ':' ? cref[2..] : cref;
            var parenthesis = name.IndexOf('(', StringComparison.Ordinal);
            name = parenthesis < 0 ? name : name[..parenthesis];
            var parts = name.Split('.');
            return kind == 'T' || parts.Length < 2 ? parts[^1] : parts[^2] + "." + parts[^1];
        }

        [GeneratedRegex(@"\s+")]
        private static partial Regex Whitespace();
    }
}
