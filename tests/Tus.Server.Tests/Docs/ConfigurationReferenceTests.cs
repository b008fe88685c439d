using System.Text.RegularExpressions;

namespace Tus.Server.Tests.Docs;

/// <summary>
/// docs/configuration.md and the other documents against the code: the generated tables equal what the code renders
/// now, every setting the parser accepts is in <c>--help</c> and in the reference, and no document names a flag the
/// server does not have. With <c>TUS_UPDATE_DOCS=1</c> (eng/update-config-reference.sh) the generated sections are
/// rewritten instead of compared.
/// </summary>
public sealed partial class ConfigurationReferenceTests
{
    /// <summary>The documents whose <c>--flags</c> must be the server's (or another tool's, listed below).</summary>
    private static readonly string[] DocumentsNamingFlags =
        ["README.md", "Tus.Server/README.md", "docs/configuration.md", "docs/operating.md"];

    /// <summary>
    /// Flags of other commands these documents show (dotnet, curl, systemctl, useradd, openssl...). A server flag that no
    /// longer exists must not hide here: add only flags of other programs.
    /// </summary>
    private static readonly HashSet<string> OtherProgramsFlags = new(StringComparer.Ordinal)
    {
        "--project", "--global", "--add-source", "--prerelease", "--tool-path", "--source", "--data-binary",
        "--now", "--system", "--user-group", "--home-dir", "--shell",
        "--data-dir", "--name", // bench/run.sh
    };

    [Fact]
    public void SettingsTable_IsWhatServerSettingsRenders() =>
        CheckSection(ConfigurationReference.SettingsSection, ConfigurationReference.RenderSettings(), "Tus.Server/ServerSettings.cs");

    [Fact]
    public void OptionsTables_AreWhatTheOptionsClassesRender() =>
        CheckSection(ConfigurationReference.OptionsSection, ConfigurationReference.RenderOptions(), "the options classes' XML docs");

    [Fact]
    public void Check_ADocumentWithOneLineChanged_FailsAndSaysHowToRegenerate()
    {
        var rendered = ConfigurationReference.RenderSettings();
        var document = GeneratedSection.Replace(
            $"# Title\n\n{GeneratedSection.BeginMarker("settings")}\nold\n{GeneratedSection.EndMarker("settings")}\n\nprose\n", "settings", rendered);
        var changed = document.Replace("`TUS_PORT`", "`TUS_LISTEN_PORT`", StringComparison.Ordinal);

        Describe(GeneratedSection.Read(document, "settings")!, rendered, "x").Should().BeNull();
        var failure = Describe(GeneratedSection.Read(changed, "settings")!, rendered, "Tus.Server/ServerSettings.cs");

        failure.Should().NotBeNull().And.Contain("TUS_LISTEN_PORT").And.Contain(ConfigurationReference.RegenerateCommand).And.Contain("TUS_UPDATE_DOCS=1");
        GeneratedSection.Replace(changed, "settings", rendered).Should().Be(document, "regenerating restores the section and nothing else");
    }

    [Fact]
    public void EverySetting_IsAcceptedByTheParserAndShownInHelpAndTheReference()
    {
        var help = ServerSettings.HelpText();
        var reference = ReadDocument(ConfigurationReference.DocumentPath);
        var problems = new List<string>();
        foreach (var setting in ServerSettings.All)
        {
            string[] args = setting.Kind == SettingKind.Flag ? [setting.Flag] : [setting.Flag, "1"];
            var (arguments, _, errors) = ServerSettings.NormalizeArguments(args);
            if (errors.Count > 0 || arguments is not [var normalized] || !normalized.StartsWith(setting.Flag + "=", StringComparison.Ordinal))
            {
                problems.Add($"the parser does not accept {string.Join(' ', args)}: {string.Join(' ', errors)}");
            }

            foreach (var name in new[] { setting.Flag, setting.EnvironmentVariable, setting.Key })
            {
                if (!help.Contains(name, StringComparison.Ordinal))
                {
                    problems.Add($"--help does not show {name}");
                }

                if (!reference.Contains("`" + name + "`", StringComparison.Ordinal))
                {
                    problems.Add($"{ConfigurationReference.DocumentPath} does not show `{name}`");
                }
            }
        }

        foreach (var command in new[] { "--help", "--version" })
        {
            if (!help.Contains(command, StringComparison.Ordinal) || !reference.Contains("`" + command + "`", StringComparison.Ordinal))
            {
                problems.Add($"{command} is missing from --help or from {ConfigurationReference.DocumentPath}");
            }
        }

        problems.Should().BeEmpty();
    }

    [Fact]
    public void Parser_UnknownFlag_IsRefused()
    {
        var (_, _, errors) = ServerSettings.NormalizeArguments(["--no-such-setting"]);

        errors.Should().ContainSingle().Which.Should().Contain("unknown option '--no-such-setting'");
    }

    [Fact]
    public void Documents_NameOnlyFlagsTheServerHasOrOtherProgramsFlags()
    {
        var serverFlags = ServerSettings.All.Select(s => s.Flag).Append("--help").Append("--version").ToHashSet(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var path in DocumentsNamingFlags)
        {
            var lines = ReadDocument(path).ReplaceLineEndings("\n").Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                foreach (Match match in FlagPattern().Matches(lines[i]))
                {
                    var flag = match.Groups["flag"].Value;
                    var known = match.Groups["wildcard"].Success
                        ? serverFlags.Any(f => f.StartsWith(flag + "-", StringComparison.Ordinal))
                        : serverFlags.Contains(flag) || OtherProgramsFlags.Contains(flag);
                    if (!known)
                    {
                        unknown.Add($"{path}:{i + 1}: {match.Value}");
                    }
                }
            }
        }

        unknown.Should().BeEmpty(
            "a document names only flags Tus.Server accepts (Tus.Server/ServerSettings.cs); a flag of another program " +
            "belongs in OtherProgramsFlags in " + nameof(ConfigurationReferenceTests));
    }

    private static void CheckSection(string section, string rendered, string source)
    {
        var path = RepositoryRoot.File(ConfigurationReference.DocumentPath);
        var document = File.ReadAllText(path);
        var current = GeneratedSection.Read(document, section);
        current.Should().NotBeNull(
            $"{ConfigurationReference.DocumentPath} holds the lines {GeneratedSection.BeginMarker(section)} and {GeneratedSection.EndMarker(section)}");
        if (Describe(current!, rendered, source) is not { } problem)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("TUS_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, GeneratedSection.Replace(document, section, rendered));
            TestContext.Current.SendDiagnosticMessage($"Rewrote the '{section}' section of {path}.");
            return;
        }

        Assert.Fail(problem);
    }

    /// <summary>The failure message when a section differs from what the code renders; <see langword="null"/> when equal.</summary>
    private static string? Describe(string current, string rendered, string source) =>
        GeneratedSection.FirstDifference(rendered, current) is { } difference
            ? $"{ConfigurationReference.DocumentPath} is out of date with {source}; {difference}\n" +
              $"Regenerate it with `{ConfigurationReference.RegenerateCommand}` (it runs these tests with TUS_UPDATE_DOCS=1, " +
              "which rewrites the generated sections), then review the diff and commit it. Change the prose around the " +
              "markers by hand; change the tables in the code."
            : null;

    private static string ReadDocument(string relativePath) => File.ReadAllText(RepositoryRoot.File(relativePath));

    /// <summary>
    /// A long option: two dashes and lower-case words joined by dashes, not part of a longer word (<c>---</c> rules and
    /// <c>&lt;!--</c> are not options); <c>--s3-*</c> names every option that begins so.
    /// </summary>
    [GeneratedRegex(@"(?<![\w-])(?<flag>--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?<wildcard>-\*)?(?![\w-])")]
    private static partial Regex FlagPattern();
}
