using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Engine;

public sealed class CorsAndUrlTests
{
    [Fact]
    public async Task Preflight_AllowedOrigin_GetsMethodsHeadersAndMaxAge()
    {
        var harness = EngineHarness.Create();
        var request = new TestRequest("OPTIONS", tus: false).Header("Origin", "https://app.example").Header("Access-Control-Request-Method", "PATCH");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(204);
        response.GetHeader("Access-Control-Allow-Origin").Should().Be("https://app.example");
        response.GetHeader("Access-Control-Allow-Methods").Should().Contain("PATCH");
        response.GetHeader("Access-Control-Allow-Headers").Should().ContainAll("Upload-Offset", "Tus-Resumable", "Upload-Checksum");
        response.GetHeader("Access-Control-Max-Age").Should().Be("86400");
        response.GetHeader("Vary").Should().Be("Origin");
    }

    [Fact]
    public async Task ActualRequest_ExposesTusHeaders()
    {
        var harness = EngineHarness.Create(o => o.Cors.ExposedHeaders.Add("X-Custom"));

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1").Header("Origin", "https://app.example"));

        response.GetHeader("Access-Control-Expose-Headers").Should().ContainAll("Upload-Offset", "Location", "Upload-Expires", "X-Custom");
        response.GetHeader("Access-Control-Allow-Credentials").Should().BeNull();
    }

    [Fact]
    public async Task Origins_Restricted_OthersAre403AndAllowedGetCredentials()
    {
        var harness = EngineHarness.Create(o =>
        {
            o.Cors.AllowedOrigins.Clear();
            o.Cors.AllowedOrigins.Add("https://good.example");
            o.Cors.AllowCredentials = true;
        });

        var bad = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1").Header("Origin", "https://evil.example"));
        var good = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1").Header("Origin", "https://good.example"));

        bad.StatusCode.Should().Be(403);
        bad.Error!.Code.Should().Be("ERR_ORIGIN_NOT_ALLOWED");
        good.StatusCode.Should().Be(201);
        good.GetHeader("Access-Control-Allow-Credentials").Should().Be("true");
        harness.Store.Count.Should().Be(1);
    }

    [Fact]
    public async Task Cors_Disabled_SendsNoCorsHeaders()
    {
        var harness = EngineHarness.Create(o => o.Cors.Enabled = false);

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1").Header("Origin", "https://x.example"));

        response.StatusCode.Should().Be(201);
        response.Headers.Should().NotContain(h => h.Key.StartsWith("Access-Control-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Location_BehindProxy_UsesForwardedHeaders()
    {
        var harness = EngineHarness.Create(o => o.BehindProxy = true);
        var request = new TestRequest("POST").Header("Upload-Length", "1")
            .Header("X-Forwarded-Proto", "https").Header("X-Forwarded-Host", "uploads.example.com").Header("X-Forwarded-Prefix", "/api");

        var response = await harness.SendAsync(request);

        response.GetHeader("Location").Should().StartWith("https://uploads.example.com/api/files/");
    }

    [Fact]
    public async Task Location_BehindProxy_UsesRfc7239Forwarded()
    {
        var harness = EngineHarness.Create(o => o.BehindProxy = true);
        var request = new TestRequest("POST").Header("Upload-Length", "1").Header("Forwarded", "for=1.2.3.4;proto=https;host=\"tus.example:8443\", for=5.6.7.8");

        var response = await harness.SendAsync(request);

        response.GetHeader("Location").Should().StartWith("https://tus.example:8443/files/");
    }

    [Fact]
    public async Task Location_NotBehindProxy_IgnoresForwardedHeaders()
    {
        var harness = EngineHarness.Create();
        var request = new TestRequest("POST").Header("Upload-Length", "1").Header("X-Forwarded-Host", "evil.example").Header("X-Forwarded-Proto", "https");

        var response = await harness.SendAsync(request);

        response.GetHeader("Location").Should().StartWith("http://localhost:8080/files/");
    }

    [Theory]
    [InlineData("evil.example/path")]
    [InlineData("user@evil.example")]
    [InlineData("evil.example\r\nX: y")]
    public async Task Location_BehindProxy_RejectsMalformedForwardedHost(string host)
    {
        var harness = EngineHarness.Create(o => o.BehindProxy = true);

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1").Header("X-Forwarded-Host", host));

        response.GetHeader("Location").Should().StartWith("http://localhost:8080/files/");
    }
}
