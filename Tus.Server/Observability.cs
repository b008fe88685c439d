using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Tus.Locking;
using Tus.Stores;

namespace Tus.Server;

/// <summary>
/// What the server adds for operators: console logs as text or JSON, Prometheus scraping, OTLP export, an access log,
/// and readiness. The metrics and spans themselves come from the libraries' meters and activity sources (<c>Tus.*</c>).
/// </summary>
internal static class Observability
{
    /// <summary>The meters and activity sources exported: every Tus package's, and ASP.NET Core's own.</summary>
    private static readonly string[] Meters = ["Tus.*", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    private static readonly string[] Sources = ["Tus.*", "Microsoft.AspNetCore"];

    /// <summary>
    /// What <c>--version</c> prints after the name: the version, the commit it was built from (when the build knew it),
    /// whether this is the native (AOT) or the JIT build, the runtime and the platform.
    /// </summary>
    public static string BuildDescription
    {
        get
        {
            var informational = typeof(Observability).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            var plus = informational?.IndexOf('+', StringComparison.Ordinal) ?? -1;
            var commit = plus >= 0 ? informational![(plus + 1)..] : null;
            var build = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "native AOT";
            var runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;
            var platform = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
            return $"{Version} ({(commit is { Length: > 0 } ? "commit " + commit[..Math.Min(12, commit.Length)] + ", " : "")}{build}, {runtime}, {platform})";
        }
    }

    public static string Version { get; } =
        typeof(Observability).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(Observability).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    public static void AddObservability(this WebApplicationBuilder builder, ServerConfiguration settings)
    {
        if (settings.LogFormat == "json")
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }

        if (!settings.ExposeMetrics && settings.OtlpEndpoint.Length == 0)
        {
            return;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("tus-server", serviceVersion: Version))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters);
                if (settings.ExposeMetrics)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (settings.OtlpEndpoint.Length > 0)
        {
            // OTEL_EXPORTER_OTLP_PROTOCOL picks the transport as everywhere else; gRPC is the specification's default.
            var protocol = string.Equals(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf", StringComparison.OrdinalIgnoreCase)
                ? OtlpExportProtocol.HttpProtobuf
                : OtlpExportProtocol.Grpc;
            telemetry.WithTracing(tracing => tracing.AddSource(Sources))
                .UseOtlpExporter(protocol, new Uri(settings.OtlpEndpoint));
        }
    }

    public static void MapObservability(this WebApplication app, ServerConfiguration settings)
    {
        if (settings.AccessLog)
        {
            var accessLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tus.Server.AccessLog");
            app.Use(async (context, next) =>
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await next(context).ConfigureAwait(false);
                }
                finally
                {
                    // The path only: query strings may carry tokens.
                    if (accessLog.IsEnabled(LogLevel.Information))
                    {
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "-";
                        ServerLog.Access(
                            accessLog,
                            remote,
                            context.Request.Method,
                            context.Request.Path.Value ?? "/",
                            context.Response.StatusCode,
                            context.Request.ContentLength ?? 0,
                            context.Response.ContentLength ?? 0,
                            elapsed);
                    }
                }
            });
        }

        if (settings.ExposeMetrics)
        {
            app.MapPrometheusScrapingEndpoint(settings.MetricsPath);
        }

        var readiness = new ReadinessProbe(
            app.Services.GetRequiredService<ITusStore>(),
            app.Services.GetRequiredService<ITusLocker>(),
            app.Services.GetRequiredService<TimeProvider>(),
            app.Logger);
        app.MapGet("/ready", async context =>
        {
            var problem = await readiness.CheckAsync(context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = problem is null ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(problem is null ? "ready\n" : "not ready: " + problem + "\n", context.RequestAborted).ConfigureAwait(false);
        });
    }
}

/// <summary>
/// Readiness: the store takes a write (a probe upload of length zero created and, where the store can terminate,
/// deleted again) and the locker grants a lock. Through the public contracts, so it means the same for every store and
/// locker; the reason a check failed is logged, and only its kind is answered.
/// </summary>
internal sealed class ReadinessProbe(ITusStore store, ITusLocker locker, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    /// <returns><see langword="null"/> when ready, else what is not.</returns>
    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        var probeId = "tus-ready-probe-" + Guid.NewGuid().ToString("N");
        using var limit = new CancellationTokenSource(Limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
        var step = "locker";
        try
        {
            var held = await locker.TryAcquireAsync(probeId, linked.Token).ConfigureAwait(false);
            if (held is null)
            {
                return "locker: refused a lock nobody holds";
            }

            await held.DisposeAsync().ConfigureAwait(false);
            step = "store";
            var probe = new NewUpload { Id = probeId, Length = 0, CreatedAt = time.GetUtcNow() };
            await store.CreateAsync(probe, linked.Token).ConfigureAwait(false);
            if (store.Termination is { } termination)
            {
                await termination.DeleteAsync(probeId, linked.Token).ConfigureAwait(false);
            }

            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any failure of a backend means "not ready"; the details go to the log.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            var reason = exception is OperationCanceledException
                ? $"{step}: no answer within {Limit.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"
                : $"{step}: {(exception is TusStoreException coded ? coded.Error.Code : exception.GetType().Name)}";
            ServerLog.NotReady(logger, exception, reason);
            return reason;
        }
    }
}
