using Microsoft.Extensions.Configuration;

namespace Tus.Server.Tests;

/// <summary>appsettings.json can say things a flag cannot: lists, objects and misspelt keys.</summary>
public sealed class SettingsShapeTests
{
    private static (ServerConfiguration? Configuration, List<string> Errors) Read(params (string Key, string Value)[] values) =>
        ServerSettings.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build());

    [Fact]
    public void CorsOrigins_AsAJsonArray_AreEachAllowed()
    {
        var (configuration, errors) = Read(("Tus:CorsOrigins:0", "https://a.example"), ("Tus:CorsOrigins:1", "https://b.example"));

        errors.Should().BeEmpty();
        configuration!.CorsOrigins.Should().Equal("https://a.example", "https://b.example");
    }

    [Fact]
    public void HooksEnabledEvents_AsAJsonArray_AreRead()
    {
        var (configuration, errors) = Read(("Tus:HooksEnabledEvents:0", "pre-create"), ("Tus:HooksEnabledEvents:1", "post-finish"));

        errors.Should().BeEmpty();
        configuration.Should().NotBeNull();
    }

    [Fact]
    public void MisspeltKey_IsRefused_InsteadOfLeavingTheDefault()
    {
        var (_, errors) = Read(("Tus:CorsOrigin", "https://a.example"));

        errors.Should().ContainSingle().Which.Should().Contain("Tus:CorsOrigin").And.Contain("unknown setting");
    }

    [Fact]
    public void ListForASingleValue_IsRefused()
    {
        var (_, errors) = Read(("Tus:Port:0", "8080"), ("Tus:Port:1", "8081"));

        errors.Should().Contain(e => e.Contains("Tus:Port", StringComparison.Ordinal) && e.Contains("single value", StringComparison.Ordinal));
    }

    [Fact]
    public void KeysDifferingOnlyInCase_AreKnown()
    {
        var (configuration, errors) = Read(("Tus:port", "9000"));

        errors.Should().BeEmpty();
        configuration!.Port.Should().Be(9000);
    }

    [Fact]
    public async Task ServerGivenAMisspeltKey_ExitsWith2AndNamesIt()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync([], new Dictionary<string, string> { ["Tus__UploadDirectory"] = "/tmp/x" });

        exitCode.Should().Be(2);
        stderr.Should().Contain("Tus:UploadDirectory: unknown setting");
        stderr.Should().NotContain("   at ");
    }

    [Fact]
    public async Task KestrelEndpointWithAnUnreadableCertificate_ExitsWith2AndNamesTheConfiguredEndpoints()
    {
        var missing = Path.Combine(Path.GetTempPath(), "tus-missing-" + Guid.NewGuid().ToString("N"));
        var (exitCode, _, stderr) = await ServerProcess.RunToExitAsync(["--upload-dir", ServerProcess.NewDirectory()], new Dictionary<string, string>
        {
            ["Kestrel__Endpoints__Https__Url"] = "https://127.0.0.1:0",
            ["Kestrel__Endpoints__Https__Certificate__Path"] = missing + ".pem",
            ["Kestrel__Endpoints__Https__Certificate__KeyPath"] = missing + ".key",
        });

        exitCode.Should().Be(2);
        stderr.Should().Contain("cannot listen on the Kestrel endpoints configured").And.Contain(missing);
        stderr.Should().NotContain("   at ");
    }
}
