using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Tus.AspNetCore.Tests;

/// <summary>Real HTTP round trips through Kestrel, the engine, the file store and the memory locker.</summary>
public sealed class ProtocolRoundTripTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Options_AnyEndpoint_AnnouncesVersionAndExtensions()
    {
        await using var server = await TestServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Options, "files/");
        using var response = await server.Client.SendAsync(request, Ct);

        response.IsSuccessStatusCode.Should().BeTrue();
        response.Headers.GetValues("Tus-Version").Single().Should().Be("1.0.0");
        var extensions = response.Headers.GetValues("Tus-Extension").Single().Split(',');
        extensions.Should().Contain(["creation", "termination"]);
    }

    [Fact]
    public async Task Upload_PostPatchHeadGetDelete_RoundTripsBytesExactly()
    {
        await using var server = await TestServer.StartAsync();
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var upload = await server.CreateUploadAsync(data.Length);
        upload.AbsolutePath.Should().StartWith("/files/");

        const int chunk = 1024 * 1024;
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            var count = Math.Min(chunk, data.Length - offset);
            using var patch = await server.PatchAsync(upload, offset, TestServer.Bytes(data, offset, count));
            patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
            patch.Headers.GetValues("Upload-Offset").Single().Should().Be((offset + count).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        (await server.GetOffsetAsync(upload)).Should().Be(data.Length);

        using (var get = await server.Client.GetAsync(upload, Ct))
        {
            get.StatusCode.Should().Be(HttpStatusCode.OK);
            get.Content.Headers.ContentLength.Should().Be(data.Length);
            var downloaded = await get.Content.ReadAsByteArrayAsync(Ct);
            downloaded.Should().Equal(data);
        }

        using (var delete = TestServer.Request(HttpMethod.Delete, upload))
        using (var deleted = await server.Client.SendAsync(delete, Ct))
        {
            deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        using var head = TestServer.Request(HttpMethod.Head, upload);
        using var gone = await server.Client.SendAsync(head, Ct);
        gone.StatusCode.Should().BeOneOf(HttpStatusCode.NotFound, HttpStatusCode.Gone);
        Directory.EnumerateFiles(server.Directory).Should().NotContain(f => f.Contains(TestServer.IdOf(upload), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Patch_ChunkedTransferEncoding_StoresEveryByte()
    {
        long? seenLength = -1;
        string? seenEncoding = null;
        await using var server = await TestServer.StartAsync(map: app =>
        {
            app.Use(async (context, next) =>
            {
                if (HttpMethods.IsPatch(context.Request.Method))
                {
                    seenLength = context.Request.ContentLength;
                    seenEncoding = context.Request.Headers.TransferEncoding;
                }

                await next(context);
            });
            app.MapTus("/files");
        });
        var data = RandomNumberGenerator.GetBytes(700_000);
        var upload = await server.CreateUploadAsync(data.Length);

        using var patch = await server.PatchAsync(upload, 0, new UnknownLengthContent(data, 64 * 1024));

        patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        seenLength.Should().BeNull("the body had no declared length");
        seenEncoding.Should().Be("chunked");
        (await server.GetOffsetAsync(upload)).Should().Be(data.Length);
        (await File.ReadAllBytesAsync(Path.Combine(server.Directory, TestServer.IdOf(upload)), Ct)).Should().Equal(data);
    }

    [Fact]
    public async Task Patch_LargerThanKestrelDefaultBodyLimit_Succeeds()
    {
        await using var server = await TestServer.StartAsync();
        var data = RandomNumberGenerator.GetBytes(40 * 1024 * 1024); // Kestrel's default limit is 30,000,000 bytes.
        var upload = await server.CreateUploadAsync(data.Length);

        using var patch = await server.PatchAsync(upload, 0, TestServer.Bytes(data, 0, data.Length));

        patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await server.GetOffsetAsync(upload)).Should().Be(data.Length);
        SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(server.Directory, TestServer.IdOf(upload)), Ct))
            .Should().Equal(SHA256.HashData(data));
    }

    [Fact]
    public async Task Patch_ClientBreaksOffMidBody_KeepsWhatArrivedAndResumes()
    {
        await using var server = await TestServer.StartAsync();
        var data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        const int sent = 1024 * 1024;
        var upload = await server.CreateUploadAsync(data.Length);

        var broken = () => server.PatchAsync(upload, 0, new BreakingContent(data, sent));
        await broken.Should().ThrowAsync<HttpRequestException>();

        // The server notices the truncated body on its own; poll until it has stored what arrived.
        var offset = 0L;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((offset = await server.GetOffsetAsync(upload)) < sent && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        offset.Should().Be(sent, "every byte that arrived before the connection broke is kept");
        using var rest = await server.PatchAsync(upload, offset, TestServer.Bytes(data, sent, data.Length - sent));
        rest.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await File.ReadAllBytesAsync(Path.Combine(server.Directory, TestServer.IdOf(upload)), Ct)).Should().Equal(data);
    }

    [Fact]
    public async Task Post_UnderPathBase_LocationIncludesPathBase()
    {
        await using var server = await TestServer.StartAsync(map: app =>
        {
            app.UsePathBase("/base");
            app.UseRouting();
            app.MapTus("/files");
        });

        var upload = await server.CreateUploadAsync(5, "base/files");

        upload.AbsolutePath.Should().StartWith("/base/files/");
        using var patch = await server.PatchAsync(upload, 0, TestServer.Bytes("hello"u8.ToArray(), 0, 5));
        patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Post_InRouteGroupWithParameter_LocationUsesTheRequestedEndpoint()
    {
        await using var server = await TestServer.StartAsync(map: app => app.MapGroup("/tenants/{tenant}").MapTus("/files"));

        var upload = await server.CreateUploadAsync(5, "tenants/acme/files/");

        upload.AbsolutePath.Should().MatchRegex("^/tenants/acme/files/[^/]+$");
        using var patch = await server.PatchAsync(upload, 0, TestServer.Bytes("hello"u8.ToArray(), 0, 5));
        patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await server.GetOffsetAsync(upload)).Should().Be(5);
    }

    [Fact]
    public async Task Request_WithoutTusResumable_IsAnsweredByTheEngine()
    {
        await using var server = await TestServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "files/");
        request.Headers.Add("Upload-Length", "5");

        using var response = await server.Client.SendAsync(request, Ct);

        response.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
    }

    /// <summary>Declares the whole length, sends the first bytes, then fails: the client aborts the request mid-body.</summary>
    private sealed class BreakingContent : HttpContent
    {
        private readonly byte[] _data;
        private readonly int _breakAfter;

        public BreakingContent(byte[] data, int breakAfter)
        {
            _data = data;
            _breakAfter = breakAfter;
            Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_data.AsMemory(0, _breakAfter));
            await stream.FlushAsync();
            await Task.Delay(200);
            throw new IOException("the client's source broke off");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _data.Length;
            return true;
        }
    }

    /// <summary>A body whose length is not known in advance, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] _data;
        private readonly int _chunk;

        public UnknownLengthContent(byte[] data, int chunk)
        {
            _data = data;
            _chunk = chunk;
            Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < _data.Length; offset += _chunk)
            {
                await stream.WriteAsync(_data.AsMemory(offset, Math.Min(_chunk, _data.Length - offset)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
