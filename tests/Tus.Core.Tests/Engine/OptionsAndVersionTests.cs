using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Engine;

public sealed class OptionsAndVersionTests
{
    [Fact]
    public async Task Options_AnyPath_AnnouncesVersionExtensionsMaxSizeAndChecksums()
    {
        var harness = EngineHarness.Create(o => { o.MaxSize = 1000; o.Expiration = TimeSpan.FromHours(1); });

        var response = await harness.SendAsync(new TestRequest("OPTIONS", tus: false));

        response.StatusCode.Should().Be(204);
        response.GetHeader("Tus-Version").Should().Be("1.0.0");
        response.GetHeader("Tus-Resumable").Should().Be("1.0.0");
        response.GetHeader("Tus-Max-Size").Should().Be("1000");
        response.GetHeader("Tus-Checksum-Algorithm").Should().Be("md5,sha1,sha256,sha512");
        response.GetHeader("Tus-Extension").Should().Be(
            "creation,creation-with-upload,creation-defer-length,termination,concatenation,concatenation-unfinished,expiration,checksum,checksum-trailer");
    }

    [Fact]
    public async Task Options_StoreWithoutCapabilities_AnnouncesOnlyCreation()
    {
        var store = new InMemoryStore { HasTermination = false, HasConcatenation = false, HasDeferredLength = false, HasExpiration = false, HasChecksum = false };
        var harness = EngineHarness.Create(o => o.Expiration = TimeSpan.FromHours(1), store);

        var response = await harness.SendAsync(new TestRequest("OPTIONS"));

        response.GetHeader("Tus-Extension").Should().Be("creation,creation-with-upload");
        response.GetHeader("Tus-Checksum-Algorithm").Should().BeNull();
        response.GetHeader("Tus-Max-Size").Should().BeNull();
    }

    [Fact]
    public async Task Options_ExtensionsDisabledByOptions_AreNotAnnounced()
    {
        var harness = EngineHarness.Create(o =>
        {
            o.EnableTermination = false;
            o.EnableConcatenationUnfinished = false;
            o.EnableChecksum = false;
            o.EnableDeferredLength = false;
        });

        var response = await harness.SendAsync(new TestRequest("OPTIONS"));

        response.GetHeader("Tus-Extension").Should().Be("creation,creation-with-upload,concatenation");
        harness.Engine.Extensions.Should().Equal("creation", "creation-with-upload", "concatenation");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0.2.2")]
    [InlineData("1.0")]
    [InlineData("")]
    public async Task AnyTusRequest_UnsupportedOrMissingVersion_Answers412WithTusVersion(string? version)
    {
        var harness = EngineHarness.Create();
        var request = new TestRequest("POST").Header("Tus-Resumable", version).Header("Upload-Length", "5");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(412);
        response.GetHeader("Tus-Version").Should().Be("1.0.0");
        response.Error!.Code.Should().Be("ERR_UNSUPPORTED_VERSION");
        harness.Store.Count.Should().Be(0);
    }

    [Fact]
    public async Task Head_WithoutVersion_Answers412WithoutBody()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);

        var response = await harness.SendAsync(new TestRequest("HEAD", id, tus: false));

        response.StatusCode.Should().Be(412);
        response.Body.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public async Task UnknownMethod_OnUpload_Answers405WithAllow()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);

        var response = await harness.SendAsync(new TestRequest("PUT", id));

        response.StatusCode.Should().Be(405);
        response.GetHeader("Allow").Should().Be("HEAD, PATCH, OPTIONS, DELETE, GET");
    }

    [Fact]
    public async Task Patch_OnEndpoint_Answers405()
    {
        var harness = EngineHarness.Create();

        var response = await harness.SendAsync(new TestRequest("PATCH"));

        response.StatusCode.Should().Be(405);
        response.GetHeader("Allow").Should().Be("POST, OPTIONS");
    }

    [Fact]
    public async Task MethodOverride_OnPost_IsApplied()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(5);

        var response = await harness.SendAsync(new TestRequest("POST", id).Header("X-HTTP-Method-Override", "DELETE"));

        response.StatusCode.Should().Be(204);
        harness.Store.Count.Should().Be(0);
    }

    [Fact]
    public async Task MethodOverride_OnGet_IsIgnored()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(0);

        var response = await harness.SendAsync(new TestRequest("GET", id).Header("X-HTTP-Method-Override", "DELETE"));

        response.StatusCode.Should().Be(200);
        harness.Store.Count.Should().Be(1);
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryProblem()
    {
        var options = new TusOptions { MaxSize = 0, ReadTimeout = TimeSpan.Zero, LockTimeout = TimeSpan.FromSeconds(-1) };
        options.Cors.AllowedOrigins.Add("not an origin");

        var act = () => new TusEngine(new InMemoryStore(), new Tus.Lockers.Memory.MemoryLocker(), options, TimeProvider.System, null);

        act.Should().Throw<ArgumentException>()
            .Which.Message.Should().ContainAll("MaxSize", "ReadTimeout", "LockTimeout", "not an origin");
    }
}
