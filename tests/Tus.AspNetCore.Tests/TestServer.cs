using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tus.AspNetCore.Tests;

/// <summary>A real Kestrel server on a free loopback port, with the file store in a temporary directory.</summary>
internal sealed class TestServer : KestrelTestHost
{
    private TestServer(WebApplication app, string directory)
        : base(app, directory, TimeSpan.FromMinutes(2))
    {
    }

    public static string NewDirectory() => NewDirectory("tus-aspnetcore-tests");

    /// <summary>Starts a server with AddTus().AddFileStore().AddMemoryLocker() and MapTus("/files"), unless told otherwise.</summary>
    public static async Task<TestServer> StartAsync(
        Action<TusOptions>? options = null,
        Action<WebApplicationBuilder, string>? configureServices = null,
        Action<WebApplication>? map = null)
    {
        var directory = NewDirectory();
        var builder = CreateBuilder();
        if (configureServices is null)
        {
            builder.Services.AddTus(options ?? (_ => { })).AddFileStore(o => o.Directory = directory).AddMemoryLocker();
        }
        else
        {
            configureServices(builder, directory);
        }

        var app = builder.Build();
        if (map is null)
        {
            app.MapTus("/files");
        }
        else
        {
            map(app);
        }

        await app.StartAsync(TestContext.Current.CancellationToken);
        return new TestServer(app, directory);
    }

    public static HttpRequestMessage Request(HttpMethod method, Uri uri, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        return request;
    }

    public static HttpContent Bytes(byte[] data, int offset, int count)
    {
        var content = new ByteArrayContent(data, offset, count);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        return content;
    }

    /// <summary>POSTs a new upload and returns its URL.</summary>
    public async Task<Uri> CreateUploadAsync(long length, string path = "files/")
    {
        using var request = Request(HttpMethod.Post, new Uri(BaseAddress, path));
        request.Headers.Add("Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Created);
        response.Headers.Location.Should().NotBeNull();
        return new Uri(BaseAddress, response.Headers.Location!);
    }

    /// <summary>PATCHes bytes at an offset and returns the response.</summary>
    public async Task<HttpResponseMessage> PatchAsync(Uri upload, long offset, HttpContent content)
    {
        using var request = Request(HttpMethod.Patch, upload, content);
        request.Headers.Add("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async Task<long> GetOffsetAsync(Uri upload)
    {
        using var request = Request(HttpMethod.Head, upload);
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        return long.Parse(response.Headers.GetValues("Upload-Offset").Single(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string IdOf(Uri upload) => upload.Segments[^1];
}
