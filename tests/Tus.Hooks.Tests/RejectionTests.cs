using Microsoft.Extensions.DependencyInjection;
using System.IO.Pipelines;
using System.Text;
using Tus.Core.Tests.Infrastructure;
using Tus.Protocol;

namespace Tus.Hooks.Tests;

/// <summary>What pre-hooks answer: refusals with their status, headers and body; failures; changes to responses.</summary>
public sealed class RejectionTests
{
    [Fact]
    public async Task PreCreate_Reject_AnswersTheHooksStatusHeadersAndBody()
    {
        using var host = HookHost.Create(t => t.OnPreCreate((c, _) =>
        {
            c.Reject();
            c.Response.StatusCode = 422;
            c.Response.Headers["Content-Type"] = "application/json";
            c.Response.Headers["X-Reason"] = "filetype";
            c.Response.Body = """{"message":"no executables"}""";
            return ValueTask.CompletedTask;
        }));

        var response = await host.SendAsync(new TestRequest("POST").Header("Upload-Length", "3"));

        response.StatusCode.Should().Be(422);
        response.Error!.Code.Should().Be("ERR_UPLOAD_REJECTED");
        response.GetHeader("X-Reason").Should().Be("filetype");
        response.GetHeader("Content-Type").Should().Be("application/json");
        response.GetHeader("Tus-Resumable").Should().Be("1.0.0");
        HookHost.Text(response).Should().Be("""{"message":"no executables"}""");
        response.ContentLength.Should().Be(response.Body.Length);
        host.Store.Count.Should().Be(0);
    }

    [Fact]
    public async Task PreCreate_RejectWithoutChanges_Answers400UploadRejected()
    {
        using var host = HookHost.Create(t => t.OnPreCreate((c, _) => { c.Reject(); return ValueTask.CompletedTask; }));

        var response = await host.SendAsync(new TestRequest("POST").Header("Upload-Length", "3"));

        response.StatusCode.Should().Be(400);
        HookHost.Text(response).Should().Be("ERR_UPLOAD_REJECTED: upload has been rejected by the server\n");
    }

    [Fact]
    public async Task PreCreate_Accepting_AddsItsHeadersToThe201()
    {
        using var host = HookHost.Create(t => t.OnPreCreate((c, _) =>
        {
            c.Response.Headers["X-Upload-Owner"] = "alice";
            return ValueTask.CompletedTask;
        }));

        var response = await host.SendAsync(new TestRequest("POST").Header("Upload-Length", "3"));

        response.StatusCode.Should().Be(201);
        response.GetHeader("X-Upload-Owner").Should().Be("alice");
        response.GetHeader("Location").Should().NotBeNull();
    }

    [Fact]
    public async Task PreCreate_SecondHookNotCalledAfterARejection()
    {
        var second = false;
        using var host = HookHost.Create(t => t
            .OnPreCreate((c, _) => { c.Reject(new TusError("ERR_QUOTA", 403, "quota reached")); return ValueTask.CompletedTask; })
            .OnPreCreate((_, _) => { second = true; return ValueTask.CompletedTask; }));

        var response = await host.SendAsync(new TestRequest("POST").Header("Upload-Length", "3"));

        response.StatusCode.Should().Be(403);
        HookHost.Text(response).Should().Be("ERR_QUOTA: quota reached\n");
        second.Should().BeFalse();
    }

    [Fact]
    public async Task PreHook_TimingOut_AnswersTheConfiguredFailureWithoutDetails()
    {
        using var host = HookHost.Create(
            t => t.OnPreCreate(async (_, _) => await Task.Delay(Timeout.Infinite, CancellationToken.None)),
            o =>
            {
                o.Hooks.PreHookTimeout = TimeSpan.FromMilliseconds(200);
                o.Hooks.FailureError = new TusError("ERR_HOOKS_DOWN", 503, "uploads are paused; try again later");
            });

        var response = await host.SendAsync(new TestRequest("POST").Header("Upload-Length", "3"));

        response.StatusCode.Should().Be(503);
        HookHost.Text(response).Should().Be("ERR_HOOKS_DOWN: uploads are paused; try again later\n");
        host.Store.Count.Should().Be(0);
        host.Engine.Hooks.PreHookFailures.Should().Be(1);
        host.Logger.Entries.Should().Contain(e => e.Contains("did not answer within 200 ms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PreHook_Throwing_Answers500HookFailedAndLogsTheException()
    {
        using var host = HookHost.Create(t => t.OnPreTerminate((_, _) => throw new InvalidOperationException("token=s3cr3t")));
        var id = await host.CreateAsync(3);

        var response = await host.SendAsync("DELETE", id);

        response.StatusCode.Should().Be(500);
        HookHost.Text(response).Should().Be("ERR_HOOK_FAILED: a server hook failed; try again later\n").And.NotContain("s3cr3t");
        host.Logger.Entries.Should().Contain(e => e.Contains("s3cr3t", StringComparison.Ordinal));
        host.Store.Count.Should().Be(1, "a failing pre-terminate keeps the upload");
    }

    [Fact]
    public async Task PreTerminate_Reject_KeepsTheUploadAndSkipsPostTerminate()
    {
        var terminated = false;
        using var host = HookHost.Create(t => t
            .OnPreTerminate((c, _) => { c.Reject(); c.Response.Headers["X-Retention"] = "legal hold"; return ValueTask.CompletedTask; })
            .OnPostTerminate((_, _) => { terminated = true; return ValueTask.CompletedTask; }));
        var id = await host.CreateAsync(3);

        var response = await host.SendAsync("DELETE", id);
        await host.PostHooksRunAsync();

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_UPLOAD_TERMINATION_REJECTED");
        response.GetHeader("X-Retention").Should().Be("legal hold");
        (await host.SendAsync("HEAD", id)).StatusCode.Should().Be(200);
        terminated.Should().BeFalse();
    }

    [Fact]
    public async Task PreFinish_SetsHeadersAndBodyOfTheFinishingResponse()
    {
        using var host = HookHost.Create(t => t.OnPreFinish((c, _) =>
        {
            c.Response.Headers["Link"] = $"<https://example.com/assets/{c.Upload.Id}>; rel=\"related\"";
            c.Response.Headers["Content-Type"] = "application/json";
            c.Response.Body = $$"""{"asset":"{{c.Upload.Id}}"}""";
            return ValueTask.CompletedTask;
        }));
        var id = await host.CreateAsync(4);

        var partial = await host.PatchAsync(id, 0, "ab");
        var last = await host.PatchAsync(id, 2, "cd");

        partial.StatusCode.Should().Be(204);
        partial.GetHeader("Link").Should().BeNull("pre-finish runs only for the request that finishes the upload");
        last.StatusCode.Should().Be(200, "a body turns the 204 into a 200");
        last.GetHeader("Upload-Offset").Should().Be("4");
        last.GetHeader("Link").Should().Be($"<https://example.com/assets/{id}>; rel=\"related\"");
        HookHost.Text(last).Should().Be($$"""{"asset":"{{id}}"}""");
    }

    [Fact]
    public async Task PreFinish_Failing_Answers500AndRaisesNoPostFinish()
    {
        var postFinish = false;
        using var host = HookHost.Create(t => t
            .OnPreFinish((_, _) => throw new InvalidOperationException("scanner down"))
            .OnPostFinish((_, _) => { postFinish = true; return ValueTask.CompletedTask; }));
        var id = await host.CreateAsync(2);

        var response = await host.PatchAsync(id, 0, "ab");
        await host.PostHooksRunAsync();

        response.StatusCode.Should().Be(500);
        response.Error!.Code.Should().Be("ERR_HOOK_FAILED");
        host.Store.DataOf(id).Should().Equal("ab"u8.ToArray(), "the bytes are stored all the same");
        postFinish.Should().BeFalse();
    }

    [Fact]
    public async Task PostReceive_StopUpload_EndsTheRequestKeepsItsBytesAndAnswersTheStop()
    {
        using var host = HookHost.Create(
            t => t.OnPostReceive((c, _) =>
            {
                if (c.Upload.Offset >= 1000)
                {
                    c.Response.Headers["X-Stopped-At"] = "1000";
                    c.Response.Body = "project archived";
                    c.StopUpload();
                }

                return ValueTask.CompletedTask;
            }),
            o => o.Hooks.ProgressInterval = TimeSpan.FromMilliseconds(50));
        var id = await host.CreateAsync(100_000);
        var pipe = new Pipe();
        var request = TestRequest.WithReader("PATCH", id, pipe.Reader, 100_000).OffsetStream().Header("Upload-Offset", "0");

        var sending = host.SendAsync(request);
        await pipe.Writer.WriteAsync(new byte[1000], TestContext.Current.CancellationToken);
        // The body never ends: only the hook can end this request.
        var response = await sending.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_UPLOAD_STOPPED");
        response.GetHeader("X-Stopped-At").Should().Be("1000");
        response.GetHeader("Upload-Offset").Should().Be("1000");
        HookHost.Text(response).Should().Be("project archived");
        host.Store.DataOf(id).Length.Should().Be(1000, "a stopped upload keeps its bytes");
        await pipe.Writer.CompleteAsync();
    }
}
