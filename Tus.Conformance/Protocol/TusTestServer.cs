using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tus.Locking;
using Tus.Stores;

namespace Tus.Conformance.Internal;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a free port, hosting the tus engine through Tus.AspNetCore
/// (<c>AddTus()</c>/<c>MapTus("/files")</c>) over given store, locker and clock instances.
/// </summary>
internal sealed class TusTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TusTestServer(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(1) };
    }

    public Uri Endpoint { get; }

    public HttpClient Client { get; }

    public TusEngine Engine => _app.Services.GetRequiredService<TusEngine>();

    public static async Task<TusTestServer> StartAsync(ITusStore store, ITusLocker locker, TimeProvider clock, Action<TusOptions> configure, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(clock);
        builder.Services.AddTus(configure);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(locker);
        var app = builder.Build();
        app.MapTus("/files");
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new TusTestServer(app, new Uri(address.TrimEnd('/') + "/files/"));
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
