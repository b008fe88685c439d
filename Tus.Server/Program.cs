using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Tus;
using Tus.Server;
using Tus.Server.Hooks;

if (args.Contains("--version"))
{
    Console.Out.WriteLine("tus-server " + Observability.BuildDescription);
    return 0;
}

var (arguments, help, errors) = ServerSettings.NormalizeArguments(args);
if (help)
{
    Console.Out.Write(ServerSettings.HelpText());
    return 0;
}

// Arguments are added below with the flag table; the default command-line source would not know the flags.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = [],
    ContentRootPath = AppContext.BaseDirectory,
});
((IConfigurationBuilder)builder.Configuration).Add(new TusEnvironmentVariablesConfigurationProvider());
builder.Configuration.AddCommandLine([.. arguments], ServerSettings.SwitchMappings());

var (settings, settingErrors) = ServerSettings.Read(builder.Configuration);
errors.AddRange(settingErrors);
if (errors.Count > 0 || settings is null)
{
    foreach (var error in errors)
    {
        await Console.Error.WriteLineAsync("tus-server: " + error).ConfigureAwait(false);
    }

    await Console.Error.WriteLineAsync("Run with --help to see every setting.").ConfigureAwait(false);
    return 2;
}

if (settings.Store == "file" && StartupChecks.UploadDirectoryProblem(settings.UploadDirectory) is { } problem)
{
    await Console.Error.WriteLineAsync("tus-server: " + problem).ConfigureAwait(false);
    return 2;
}

builder.AddObservability(settings);
// Until the server listens, a failure to start is reported below in one line; the host's own entry for it would repeat
// it with a stack trace. Once started, the host's errors (a background service that fails) are logged as usual.
var started = false;
builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => Volatile.Read(ref started) || level >= LogLevel.Critical);
builder.WebHost.UseUrls(settings.ListenUrl);
// Kestrel's socket transport reads up to 1 MiB per connection ahead of the application by default, into pinned 4 KiB
// blocks that its pool keeps. The engine streams each body to storage as it arrives, so 64 KiB of read-ahead keeps
// uploads flowing just as well, and 256 concurrent uploads no longer hold 100+ MiB of pinned buffers (see bench/).
builder.WebHost.UseSockets(o =>
{
    o.MaxReadBufferSize = 64 * 1024;
    // By default every 4 KiB read is preceded by a one-byte peek that waits for data before a buffer is taken: twice
    // the system calls on a busy upload, to save an idle keep-alive connection one 4 KiB block.
    o.WaitForDataBeforeAllocatingBuffer = false;
});
// Two Kestrel connection middlewares (Tus.AspNetCore), set together because endpoint defaults are one setting:
// - a client that closes or half-closes its connection mid-body: every byte it sent before is read out and kept
//   (without it Kestrel drops what it had buffered but not yet handed over);
// - the IETF draft's 104 (Upload Resumption Supported) needs a way to send an interim response, which ASP.NET Core lacks.
if (!settings.DisableKeepReceivedBytes || !settings.DisableIetfDraft)
{
    builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(listen =>
    {
        if (!settings.DisableKeepReceivedBytes)
        {
            listen.KeepReceivedBytesOnDisconnect();
        }

        if (!settings.DisableIetfDraft)
        {
            listen.UseTusInterimResponses();
        }
    }));
}

// The host stops waiting for requests after its shutdown timeout (30 s by default): it must outlast the grace period
// that storage calls in flight are given, or that period would be cut short.
builder.Services.Configure<HostOptions>(o =>
{
    var needed = settings.ShutdownGracePeriod + TimeSpan.FromSeconds(5);
    if (o.ShutdownTimeout < needed)
    {
        o.ShutdownTimeout = needed;
    }
});
var tus = builder.Services.AddTus(settings.Apply);
if (settings.Store == "s3")
{
    tus.AddS3Store(settings.Apply);
}
else
{
    tus.AddFileStore(settings.Apply);
}

if (settings.HasQuota)
{
    tus.WithQuota(settings.Apply);
}

if (settings.Locker == "consul")
{
    tus.AddConsulLocker(settings.Apply);
}
else
{
    tus.AddMemoryLocker();
}

tus.AddExternalHooks(settings.Hooks);

var app = builder.Build();
var logger = app.Logger;
foreach (var setting in ServerSettings.All)
{
    var configured = builder.Configuration[setting.ConfigurationKey];
    var value = string.IsNullOrWhiteSpace(configured) ? setting.Default : configured.Trim();
    value = value.Length == 0 ? "(none)" : value;
    var source = ServerSettings.SourceOf(builder.Configuration, setting);
    ServerLog.Setting(logger, setting.Key, value, source);
}

ServerLog.Storage(logger, settings.StorageDescription);
if (settings.Hooks is { } hooks)
{
    var transport = app.Services.GetRequiredService<IHookTransport>().Description;
    var events = string.Join(',', hooks.Events);
    HookLog.HooksEnabled(logger, transport, events);
}

// Built now so the landing page can list the extensions; Tus.AspNetCore logs them when the host starts.
var engine = app.Services.GetRequiredService<TusEngine>();

app.MapTus(settings.BasePath);
// Plain request delegates rather than minimal-API handlers: those are compiled from expression trees at start-up,
// which loads System.Linq.Expressions and JIT-compiles the result (a few MiB of resident memory for two tiny routes).
app.MapGet("/health", static context => WriteText(context, "ok", "text/plain; charset=utf-8"));
app.MapObservability(settings);
if (settings.BasePath != "/")
{
    app.MapGet("/", context => WriteText(context, LandingPage.Render(context.Request, settings.BasePath, engine.Extensions), "text/html; charset=utf-8"));
}

app.Lifetime.ApplicationStarted.Register(() =>
{
    Volatile.Write(ref started, true);
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    foreach (var address in addresses)
    {
        var url = address.TrimEnd('/') + settings.BasePath;
        ServerLog.Listening(logger, url);
    }
});

// Kestrel endpoints from configuration (HTTPS, Unix sockets) replace --host and --port; a failure to listen names them.
var listenTarget = app.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any()
    ? "the Kestrel endpoints configured (Kestrel:Endpoints)"
    : settings.ListenUrl;
try
{
    await app.RunAsync().ConfigureAwait(false);
}
catch (IOException ex)
{
    // Most often the port is taken, or a configured certificate cannot be read: say so without a stack trace, and exit
    // like any other reason the server cannot start.
    await Console.Error.WriteLineAsync($"tus-server: cannot listen on {listenTarget}: {ex.Message}").ConfigureAwait(false);
    return 2;
}
catch (InvalidOperationException ex) when (ex.Message.StartsWith("tus cannot start", StringComparison.Ordinal))
{
    // A start-up check failed (a directory that cannot be written, a lock service that does not answer): the message
    // lists every problem; exit like a bad setting rather than abort with a stack trace.
    await Console.Error.WriteLineAsync("tus-server: " + ex.Message).ConfigureAwait(false);
    return 2;
}

return 0;

static Task WriteText(HttpContext context, string text, string contentType)
{
    context.Response.ContentType = contentType;
    context.Response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(text);
    return context.Response.WriteAsync(text, context.RequestAborted);
}

/// <summary>The server's log messages.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Setting {Key} = {Value} ({Source})")]
    public static partial void Setting(ILogger logger, string key, string value, string source);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Storing uploads in {Directory}")]
    public static partial void Storage(ILogger logger, string directory);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "tus endpoint: {Url}")]
    public static partial void Listening(ILogger logger, string url);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "{RemoteAddress} {Method} {Path} {StatusCode} {RequestBytes} {ResponseBytes} {ElapsedMilliseconds} ms")]
    public static partial void Access(ILogger logger, string remoteAddress, string method, string path, int statusCode, long requestBytes, long responseBytes, double elapsedMilliseconds);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Not ready: {Reason}")]
    public static partial void NotReady(ILogger logger, Exception exception, string reason);
}
