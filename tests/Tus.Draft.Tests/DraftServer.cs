using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tus.Draft.Tests;

/// <summary>Tus.AspNetCore on real Kestrel (127.0.0.1, a free port) over the file store and the memory locker, interim responses on.</summary>
public sealed class DraftServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private DraftServer(WebApplication app, string directory, Uri endpoint)
    {
        _app = app;
        _directory = directory;
        Endpoint = endpoint;
    }

    /// <summary>The tus endpoint, ending with '/'.</summary>
    public Uri Endpoint { get; }

    public string Path => Endpoint.AbsolutePath;

    public static async Task<DraftServer> StartAsync(Action<TusOptions>? configure = null, bool interimResponses = true, Action<ITusBuilder>? storage = null, Action<ITusBuilder>? hooks = null)
    {
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tus-draft-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (interimResponses)
        {
            builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.UseTusInterimResponses()));
        }

        builder.Logging.ClearProviders();
        var tus = builder.Services.AddTus(o => configure?.Invoke(o));
        if (storage is not null)
        {
            storage(tus);
        }
        else
        {
            tus.AddFileStore(o => o.Directory = directory).AddMemoryLocker();
        }

        hooks?.Invoke(tus);

        var app = builder.Build();
        app.MapTus("/files");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DraftServer(app, directory, new Uri(address.TrimEnd('/') + "/files/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a request that is winding down; the temp directory is cleaned by the system.
        }
    }
}
