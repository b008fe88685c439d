using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tus.Faults.Tests;

/// <summary>A library user's application: real Kestrel on a free loopback port, MapTus over the file store.</summary>
internal sealed class KestrelHost : KestrelTestHost
{
    private KestrelHost(WebApplication app, string directory)
        : base(app, directory, TimeSpan.FromMinutes(1))
    {
    }

    public static async Task<KestrelHost> StartAsync(bool keepReceivedBytes, Action<TusOptions>? options = null, ILoggerProvider? logs = null, string? directory = null)
    {
        directory ??= NewDirectory("tus-faults-tests");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("TUS_FAULTS_LOG") is { Length: > 0 } level)
        {
            // For investigating a failure: the server's own account of each connection and request on the console.
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(Enum.Parse<LogLevel>(level));
        }

        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen =>
        {
            if (keepReceivedBytes)
            {
                listen.KeepReceivedBytesOnDisconnect();
            }
        }));
        builder.Services.AddTus(options ?? (_ => { })).AddFileStore(o => o.Directory = directory).AddMemoryLocker();
        var app = builder.Build();
        app.MapTus("/files");
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new KestrelHost(app, directory);
    }
}
