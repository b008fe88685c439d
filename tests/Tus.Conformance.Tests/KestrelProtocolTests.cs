using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tus.Conformance.Tests;

/// <summary>
/// The protocol suite through a real server: Kestrel on 127.0.0.1 with a free port, the engine mapped by
/// Tus.AspNetCore's <c>AddTus()</c>/<c>MapTus("/files")</c>, and a socket <see cref="HttpClient"/>. The package runs the
/// suite in memory; this shows that its scenarios (an interrupted body above all) mean the same over the wire.
/// </summary>
public sealed class ReferenceProtocolOverKestrelConformanceTests(ReferenceStoreFixture fixture) : ProtocolConformanceTests<ReferenceStoreFixture>(fixture)
{
    protected override async ValueTask<ProtocolTransport> CreateTransportAsync(TusEngine engine, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddTus();

        // This very engine, over the suite's wrapped store; the store and locker registrations satisfy the start-up checks.
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(Store);
        builder.Services.AddSingleton(Locker);
        var app = builder.Build();
        app.MapTus("/files");
        try
        {
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(1) };
            return new ProtocolTransport(client, new Uri(address.TrimEnd('/') + "/files/"), async () =>
            {
                try
                {
                    await app.StopAsync(CancellationToken.None);
                }
                finally
                {
                    await app.DisposeAsync();
                }
            });
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }
}
