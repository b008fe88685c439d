using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Tus.Packaging.Tests;

/// <summary>
/// Tus.Server packed as a .NET tool (eng/pack.sh): installed from the packed feed the way the README says, its
/// tus-server command answers --help and serves an upload.
/// </summary>
public sealed partial class ToolPackageTests(PackedLibraries packed) : IClassFixture<PackedLibraries>
{
    private string ToolPackage => Path.Combine(packed.Root, "artifacts", "packages", $"Tus.Server.{packed.Version}.nupkg");

    [Fact]
    public void ToolPackage_Metadata_IsADotnetToolWithIconReadmeAndLicense()
    {
        File.Exists(ToolPackage).Should().BeTrue($"eng/pack.sh packs Tus.Server as a tool with the libraries' version {packed.Version}");
        var package = Nuspec.Read(ToolPackage);

        package.Element("packageTypes")!.Elements().Select(e => e.Attribute("name")?.Value).Should().Contain("DotnetTool");
        package.Value("version").Should().Be(packed.Version);
        package.Value("license").Should().Be("MIT");
        package.Value("copyright").Should().NotBeNullOrEmpty();
        package.Entry(package.Value("icon")!).Should().NotBeEmpty();
        package.Entry(package.Value("readme")!).Should().NotBeEmpty();
        package.Files.Should().Contain(f => f.StartsWith("tools/net10.0/any/", StringComparison.Ordinal) && f.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
        Encoding.UTF8.GetString(package.Entry("tools/net10.0/any/DotnetToolSettings.xml")).Should().Contain("Name=\"tus-server\"");
    }

    [Fact]
    public async Task DotnetToolInstall_FromThePackedFeed_GivesAWorkingTusServerCommand()
    {
        var work = Directory.CreateTempSubdirectory("tus-tool-");
        try
        {
            var toolPath = Path.Combine(work.FullName, "tools");
            var feed = Path.Combine(packed.Root, "artifacts", "packages");
            var install = await RunAsync(
                DotnetHost, ["tool", "install", "--tool-path", toolPath, "--add-source", feed, "--version", packed.Version, "Tus.Server"], work.FullName, TimeSpan.FromMinutes(3));
            install.ExitCode.Should().Be(0, $"dotnet tool install succeeds:\n{install.Output}");

            var command = Path.Combine(toolPath, "tus-server");
            File.Exists(command).Should().BeTrue("the tool's command is tus-server");

            var help = await RunAsync(command, ["--help"], work.FullName, TimeSpan.FromMinutes(1));
            help.ExitCode.Should().Be(0, help.Output);
            help.Output.Should().Contain("--upload-dir").And.Contain("--port").And.Contain("tus-server [options]");

            var uploads = Path.Combine(work.FullName, "uploads");
            var start = new ProcessStartInfo(command, ["--host", "127.0.0.1", "--port", "0", "--upload-dir", uploads])
            {
                WorkingDirectory = work.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("TUS_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(key);
            }

            using var server = Process.Start(start)!;
            var output = new StringBuilder();
            server.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            server.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            try
            {
                var endpoint = await WaitForEndpointAsync(server, output);
                using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

                using var create = new HttpRequestMessage(HttpMethod.Post, endpoint);
                create.Headers.Add("Tus-Resumable", "1.0.0");
                create.Headers.Add("Upload-Length", "5");
                using var created = await client.SendAsync(create);
                created.StatusCode.Should().Be(HttpStatusCode.Created);
                var location = new Uri(endpoint, created.Headers.Location!);

                using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent("hello"u8.ToArray()) };
                patch.Headers.Add("Tus-Resumable", "1.0.0");
                patch.Headers.Add("Upload-Offset", "0");
                patch.Content.Headers.ContentType = new("application/offset+octet-stream");
                using var patched = await client.SendAsync(patch);
                patched.StatusCode.Should().Be(HttpStatusCode.NoContent);
                patched.Headers.GetValues("Upload-Offset").Should().Equal("5");

                var hello = "hello"u8.ToArray();
                Directory.EnumerateFiles(uploads, "*", SearchOption.AllDirectories)
                    .Select(File.ReadAllBytes)
                    .Should().Contain(bytes => bytes.SequenceEqual(hello), "the upload is stored in --upload-dir");
            }
            finally
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                }

                await server.WaitForExitAsync();
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static async Task<Uri> WaitForEndpointAsync(Process server, StringBuilder output)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            if (EndpointLine().Match(text) is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value);
            }

            if (server.HasExited)
            {
                throw new InvalidOperationException($"tus-server exited ({server.ExitCode}):\n{text}");
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"tus-server did not log its endpoint:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"tus endpoint: (http://[^\s""]+)")]
    private static partial Regex EndpointLine();
}
