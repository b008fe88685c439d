using Microsoft.Extensions.DependencyInjection;
using System.Text;
using static Tus.Draft.Tests.Draft;

namespace Tus.Draft.Tests;

/// <summary>
/// An upload belongs to the protocol that created it: appends in the other one are refused (400 ERR_PROTOCOL_MISMATCH)
/// and leave it untouched; reading its state, downloading and deleting it work in both.
/// </summary>
public sealed class CrossProtocolTests
{
    private static readonly (string, string) Tus = ("Tus-Resumable", "1.0.0");

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task TusUpload_DraftAppend_IsRefusedAndChangesNothing(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var created = (await SendAsync(server, "POST", server.Path, [Tus, ("Upload-Length", "10"), ("Content-Type", "application/offset+octet-stream")], Bytes("abc")))[^1];
        var path = new Uri(created.Header("Location")!).AbsolutePath;

        var draftAppend = (await AppendAsync(server, version, path, 3, complete: true, Bytes("defghij")))[^1];
        var draftHead = await HeadAsync(server, version, path);

        draftAppend.Status.Should().Be(400);
        draftAppend.BodyText.Should().Contain("ERR_PROTOCOL_MISMATCH");
        draftHead.Header("Upload-Offset").Should().Be("3");
        IsComplete(draftHead, version).Should().BeFalse();
        var tusHead = (await SendAsync(server, "HEAD", path, [Tus]))[^1];
        tusHead.Header("Upload-Offset").Should().Be("3");
        var tusAppend = (await SendAsync(server, "PATCH", path, [Tus, ("Upload-Offset", "3"), ("Content-Type", "application/offset+octet-stream")], Bytes("defghij")))[^1];
        tusAppend.Status.Should().Be(204, "the tus client carries on as before");
    }

    [Theory]
    [MemberData(nameof(Draft.Versions), MemberType = typeof(Draft))]
    public async Task DraftUpload_TusAppend_IsRefusedAndChangesNothing(int version)
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, version, complete: false, Bytes("abc"));

        var tusAppend = (await SendAsync(server, "PATCH", path, [Tus, ("Upload-Offset", "3"), ("Upload-Length", "3"), ("Content-Type", "application/offset+octet-stream")], []))[^1];
        var tusHead = (await SendAsync(server, "HEAD", path, [Tus]))[^1];

        tusAppend.Status.Should().Be(400);
        tusAppend.BodyText.Should().Contain("ERR_PROTOCOL_MISMATCH");
        tusHead.Status.Should().Be(200);
        tusHead.Header("Upload-Offset").Should().Be("3");
        tusHead.Header("Upload-Defer-Length").Should().Be("1", "the tus request could not set the length the draft client has yet to declare");
        var metadata = tusHead.Header("Upload-Metadata")!;
        metadata.Should().Contain("ietf-draft-interop-version " + Convert.ToBase64String(Encoding.ASCII.GetBytes(version.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        var draftAppend = (await AppendAsync(server, version, path, 3, complete: true, Bytes("de")))[^1];
        IsComplete(draftAppend, version).Should().BeTrue("the draft client carries on as before");
    }

    [Fact]
    public async Task TusFinalUpload_FromADraftUpload_IsRefusedAsNotAPartial()
    {
        await using var server = await DraftServer.StartAsync();
        var (_, path) = await CreateAsync(server, 8, complete: true, Bytes("abc"));

        var final = (await SendAsync(server, "POST", server.Path, [Tus, ("Upload-Concat", "final;" + path)]))[^1];

        final.Status.Should().Be(400);
        final.BodyText.Should().Contain("ERR_INVALID_CONCAT");
    }

    [Fact]
    public async Task DraftRequest_TusOnlyHeaders_AreNotHonoured()
    {
        await using var server = await DraftServer.StartAsync();

        // A draft client cannot make a tus partial upload or pass tus metadata through.
        var (responses, path) = await CreateAsync(server, 8, complete: false, [], ("Upload-Concat", "partial"), ("Upload-Metadata", "filename aGFjaw=="));
        responses[^1].Status.Should().Be(201);
        var tusHead = (await SendAsync(server, "HEAD", path, [Tus]))[^1];
        tusHead.Header("Upload-Concat").Should().BeNull();
        tusHead.Header("Upload-Metadata").Should().NotContain("filename");
    }

    [Fact]
    public async Task TusClient_SendingTheDraftKey_CannotClaimItsUploadForTheDraft()
    {
        await using var server = await DraftServer.StartAsync();
        var claim = "ietf-draft-interop-version " + Convert.ToBase64String(Encoding.ASCII.GetBytes("8"));
        var created = (await SendAsync(server, "POST", server.Path, [Tus, ("Upload-Length", "2"), ("Upload-Metadata", claim)]))[^1];
        var path = new Uri(created.Header("Location")!).AbsolutePath;

        var draftAppend = (await AppendAsync(server, 8, path, 0, complete: true, Bytes("ab")))[^1];

        draftAppend.Status.Should().Be(400);
        draftAppend.BodyText.Should().Contain("ERR_PROTOCOL_MISMATCH");
    }

    [Fact]
    public async Task DraftUpload_HookReplacingTheMetadata_StaysADraftUpload()
    {
        await using var server = await DraftServer.StartAsync(hooks: tus => tus.OnPreCreate((hook, _) =>
        {
            hook.Metadata = global::Tus.Protocol.UploadMetadata.FromStrings([new("owner", "hook")]);
            return ValueTask.CompletedTask;
        }));
        var (_, path) = await CreateAsync(server, 8, complete: false, Bytes("ab"));

        var tusAppend = (await SendAsync(server, "PATCH", path, [Tus, ("Upload-Offset", "2"), ("Content-Type", "application/offset+octet-stream")], Bytes("cd")))[^1];
        var draftAppend = (await AppendAsync(server, 8, path, 2, complete: true, Bytes("cd")))[^1];

        tusAppend.Status.Should().Be(400);
        draftAppend.Status.Should().Be(204);
        IsComplete(draftAppend, 8).Should().BeTrue();
    }

    [Fact]
    public async Task DraftCreation_RejectedByAHookWithItsOwnBody_PassesThatBodyOn()
    {
        await using var server = await DraftServer.StartAsync(hooks: tus => tus.OnPreCreate((hook, _) =>
        {
            hook.Response.StatusCode = 403;
            hook.Response.Body = "quota reached";
            hook.Reject();
            return ValueTask.CompletedTask;
        }));

        var answer = (await CreateAsync(server, 8, complete: true, Bytes("abc"))).Responses[^1];

        answer.Status.Should().Be(403);
        answer.BodyText.Should().Be("quota reached");
    }

    [Fact]
    public async Task DraftCreation_RejectedByAHook_GetsAProblemBodyWithTheCode()
    {
        await using var server = await DraftServer.StartAsync(hooks: tus => tus.OnPreCreate((hook, _) =>
        {
            hook.Reject();
            return ValueTask.CompletedTask;
        }));

        var answer = (await CreateAsync(server, 8, complete: true, Bytes("abc"))).Responses[^1];

        answer.Status.Should().Be(400);
        answer.Header("Content-Type").Should().Be("application/problem+json");
        answer.BodyText.Should().Contain("\"code\":\"ERR_UPLOAD_REJECTED\"");
    }
}
