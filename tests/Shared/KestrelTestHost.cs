using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tus.Testing;

/// <summary>
/// A started application on real Kestrel, a free loopback port and an upload directory of its own, with a client for it;
/// disposing stops it and deletes the directory. Each test project's host adds how it builds and what it helps send.
/// </summary>
internal abstract class KestrelTestHost : IAsyncDisposable
{
    protected KestrelTestHost(WebApplication app, string directory, TimeSpan clientTimeout)
    {
        App = app;
        Directory = directory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = clientTimeout };
    }

    public WebApplication App { get; }

    public string Directory { get; }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public HttpClient Client { get; }

    /// <summary>A directory under the temporary folder, <c>{folder}/{guid}</c>, not created yet.</summary>
    public static string NewDirectory(string folder) => Path.Combine(Path.GetTempPath(), folder, Guid.NewGuid().ToString("N"));

    /// <summary>An unstarted slim application on 127.0.0.1:0 with no log providers.</summary>
    public static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await App.StopAsync(CancellationToken.None);
        }
        finally
        {
            await App.DisposeAsync();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }

        GC.SuppressFinalize(this);
    }
}
