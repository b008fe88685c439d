using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tus.Observability.Tests;

/// <summary>Kestrel on a free loopback port with the file store in a temporary directory and the memory locker.</summary>
internal sealed class TusTestServer : KestrelTestHost
{
    private TusTestServer(WebApplication app, string directory)
        : base(app, directory, TimeSpan.FromMinutes(1))
    {
    }

    public TusEngine Engine => App.Services.GetRequiredService<TusEngine>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<TusTestServer> StartAsync(Action<TusOptions>? options = null, ILoggerProvider? logs = null, Action<ITusBuilder>? tus = null)
    {
        var directory = NewDirectory("tus-observability-tests");
        var builder = CreateBuilder();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        }

        var tusBuilder = builder.Services.AddTus(options ?? (_ => { })).AddFileStore(o => o.Directory = directory).AddMemoryLocker();
        tus?.Invoke(tusBuilder);
        var app = builder.Build();
        app.MapTus("/files");
        await app.StartAsync(Ct);
        return new TusTestServer(app, directory);
    }

    public static HttpRequestMessage Request(HttpMethod method, Uri uri, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        return request;
    }

    public async Task<Uri> CreateAsync(long length)
    {
        using var request = Request(HttpMethod.Post, new Uri(BaseAddress, "files/"));
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        using var response = await Client.SendAsync(request, Ct);
        ((int)response.StatusCode).Should().Be(201);
        return new Uri(BaseAddress, response.Headers.Location!);
    }

    public async Task<int> PatchAsync(Uri upload, long offset, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        using var request = Request(HttpMethod.Patch, upload, content);
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        using var response = await Client.SendAsync(request, Ct);
        return (int)response.StatusCode;
    }

    public async Task<int> SendAsync(HttpMethod method, Uri upload)
    {
        using var request = Request(method, upload);
        using var response = await Client.SendAsync(request, Ct);
        return (int)response.StatusCode;
    }
}

internal static class Eventually
{
    /// <summary>Waits for something the server records after the client already has its answer (a download's end).</summary>
    public static async Task TrueAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
