using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Tus.AspNetCore.Tests;

public sealed class AuthorizationTests
{
    private const string SchemeName = "Test";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<TestServer> StartProtectedAsync() => TestServer.StartAsync(
        configureServices: (builder, directory) =>
        {
            builder.Services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthenticationHandler>(SchemeName, null);
            builder.Services.AddAuthorization();
            builder.Services.AddTus().AddFileStore(o => o.Directory = directory).AddMemoryLocker();
        },
        map: app =>
        {
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapTus("/files").RequireAuthorization();
        });

    [Fact]
    public async Task RequireAuthorization_AnonymousCreation_Is401()
    {
        await using var server = await StartProtectedAsync();
        using var request = TestServer.Request(HttpMethod.Post, new Uri(server.BaseAddress, "files/"));
        request.Headers.Add("Upload-Length", "5");

        using var response = await server.Client.SendAsync(request, Ct);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        Directory.Exists(server.Directory).Should().BeTrue();
        Directory.EnumerateFiles(server.Directory).Should().BeEmpty();
    }

    [Fact]
    public async Task RequireAuthorization_AnonymousRequestToAnUpload_Is401()
    {
        await using var server = await StartProtectedAsync();
        server.Client.DefaultRequestHeaders.Add("Authorization", "Test let-me-in");
        var upload = await server.CreateUploadAsync(5);
        server.Client.DefaultRequestHeaders.Remove("Authorization");

        using var head = TestServer.Request(HttpMethod.Head, upload);
        using var response = await server.Client.SendAsync(head, Ct);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RequireAuthorization_AuthenticatedUser_CanUploadAndHooksSeeTheUser()
    {
        string? seenUser = null;
        await using var server = await TestServer.StartAsync(
            configureServices: (builder, directory) =>
            {
                builder.Services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthenticationHandler>(SchemeName, null);
                builder.Services.AddAuthorization();
                builder.Services
                    .AddTus()
                    .OnPreCreate((context, _) =>
                    {
                        seenUser = context.Request.User?.Identity?.Name;
                        context.Services.Should().NotBeNull();
                        return ValueTask.CompletedTask;
                    })
                    .AddFileStore(o => o.Directory = directory)
                    .AddMemoryLocker();
            },
            map: app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapTus("/files").RequireAuthorization();
            });
        server.Client.DefaultRequestHeaders.Add("Authorization", "Test let-me-in");

        var upload = await server.CreateUploadAsync(5);
        using var patch = await server.PatchAsync(upload, 0, TestServer.Bytes("hello"u8.ToArray(), 0, 5));

        patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        seenUser.Should().Be("alice");
    }

    /// <summary>Authenticates "alice" when the Authorization header is "Test let-me-in"; anyone else is anonymous.</summary>
    private sealed class TestAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers.Authorization != "Test let-me-in")
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice")], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
