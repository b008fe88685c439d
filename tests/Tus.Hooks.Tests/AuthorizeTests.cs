using Microsoft.Extensions.DependencyInjection;
using Tus.Core.Tests.Infrastructure;
using Tus.Protocol;

namespace Tus.Hooks.Tests;

/// <summary>The authorize hook keeps each upload to its owner: resuming, writing, downloading, concatenating, deleting.</summary>
public sealed class AuthorizeTests
{
    /// <summary>An application's rule: the creator (X-User at creation) owns the upload; nobody else may touch it.</summary>
    private static HookHost OwnedUploads(Action<TusOptions>? configure = null) => HookHost.Create(t => t
        .OnPreCreate((c, _) =>
        {
            if (c.Request.GetHeader("X-User") is not { } user)
            {
                c.Reject(new TusError("ERR_UNAUTHENTICATED", 401, "sign in first"));
            }
            else
            {
                c.Metadata = c.Metadata.With("owner", System.Text.Encoding.UTF8.GetBytes(user));
            }

            return ValueTask.CompletedTask;
        })
        .OnAuthorize((c, _) =>
        {
            if (c.Upload.Metadata.GetString("owner") != c.Request.GetHeader("X-User"))
            {
                c.Reject();
            }

            return ValueTask.CompletedTask;
        }), configure);

    [Fact]
    public async Task SecondUser_IsDeniedHeadPatchGetDeleteAndConcatenation_OwnerIsNot()
    {
        using var host = OwnedUploads();
        var id = await host.CreateAsync(5, user: "alice");

        var head = await host.SendAsync("HEAD", id, user: "bob");
        var patch = await host.PatchAsync(id, 0, "hello", user: "bob");
        head.StatusCode.Should().Be(403);
        head.Body.IsEmpty.Should().BeTrue("HEAD answers carry no body");
        patch.StatusCode.Should().Be(403);
        HookHost.Text(patch).Should().Be("ERR_ACCESS_DENIED: access to this upload is denied\n");
        host.Store.DataOf(id).Should().BeEmpty();

        (await host.PatchAsync(id, 0, "hello", user: "alice")).StatusCode.Should().Be(204);
        (await host.SendAsync("GET", id, user: "bob")).StatusCode.Should().Be(403);
        (await host.SendAsync("GET", id, user: "alice")).StatusCode.Should().Be(200);

        var partial = await host.CreateAsync(2, user: "alice", concat: "partial");
        (await host.PatchAsync(partial, 0, "ab", user: "alice")).StatusCode.Should().Be(204);
        var stolen = await host.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{partial}").Header("X-User", "bob"));
        stolen.StatusCode.Should().Be(403, "bob may not build a final upload out of alice's partial");
        host.Store.Count.Should().Be(2);
        (await host.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{partial}").Header("X-User", "alice")))
            .StatusCode.Should().Be(201);

        (await host.SendAsync("DELETE", id, user: "bob")).StatusCode.Should().Be(403);
        (await host.SendAsync("HEAD", id, user: "alice")).StatusCode.Should().Be(200, "the upload survived bob's DELETE");
        (await host.SendAsync("DELETE", id, user: "alice")).StatusCode.Should().Be(204);
    }

    [Fact]
    public async Task Concatenation_IsAuthorizedForEachPartialItNames()
    {
        var checkedPartials = new List<string>();
        using var host = HookHost.Create(t => t.OnAuthorize((c, _) =>
        {
            c.Intent.Should().Be(TusIntent.Concatenate);
            checkedPartials.Add(c.Upload.Id);
            return ValueTask.CompletedTask;
        }));
        var a = await host.CreateAsync(1, concat: "partial");
        var b = await host.CreateAsync(1, concat: "partial");

        var final = await host.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{a} /files/{b}"));

        final.StatusCode.Should().Be(201);
        checkedPartials.Should().Equal(a, b);
    }

    [Fact]
    public async Task RefusedHead_DoesNotInterruptTheOwnersRunningPatch()
    {
        using var host = OwnedUploads();
        var id = await host.CreateAsync(10, user: "alice");
        var pipe = new System.IO.Pipelines.Pipe();
        var request = TestRequest.WithReader("PATCH", id, pipe.Reader, 10).OffsetStream().Header("Upload-Offset", "0").Header("X-User", "alice");
        var writing = host.SendAsync(request);
        await pipe.Writer.WriteAsync("hello"u8.ToArray(), TestContext.Current.CancellationToken);
        await host.Store.AppendStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        (await host.SendAsync("HEAD", id, user: "bob")).StatusCode.Should().Be(403);
        await pipe.Writer.WriteAsync("world"u8.ToArray(), TestContext.Current.CancellationToken);
        await pipe.Writer.CompleteAsync();

        var response = await writing.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(204, "the refused HEAD never took the lock, so alice's PATCH ran to its end");
        host.Store.DataOf(id).Should().Equal("helloworld"u8.ToArray());
    }

    [Fact]
    public async Task Reject_WithItsOwnStatusHeadersAndBody_IsAnsweredSo()
    {
        using var host = HookHost.Create(t => t.OnAuthorize((c, _) =>
        {
            // Hide the upload from strangers altogether.
            c.Reject(TusError.UploadNotFound);
            c.Response.Headers["WWW-Authenticate"] = "Bearer";
            c.Response.Body = "no such upload here";
            return ValueTask.CompletedTask;
        }));
        var id = await host.CreateAsync(3);

        var patch = await host.PatchAsync(id, 0, "abc");
        var head = await host.SendAsync("HEAD", id);

        patch.StatusCode.Should().Be(404);
        patch.GetHeader("WWW-Authenticate").Should().Be("Bearer");
        HookHost.Text(patch).Should().Be("no such upload here");
        head.StatusCode.Should().Be(404);
        head.GetHeader("WWW-Authenticate").Should().Be("Bearer");
        head.Body.IsEmpty.Should().BeTrue();
        host.Store.DataOf(id).Should().BeEmpty();
    }

    [Fact]
    public async Task UnknownUpload_IsAnswered404WithoutCallingTheHook()
    {
        var called = false;
        using var host = HookHost.Create(t => t.OnAuthorize((_, _) => { called = true; return ValueTask.CompletedTask; }));

        (await host.SendAsync("HEAD", "nosuchupload")).StatusCode.Should().Be(404);
        called.Should().BeFalse();
    }
}
