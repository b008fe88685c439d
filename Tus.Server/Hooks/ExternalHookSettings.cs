using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tus.Hooks;

namespace Tus.Server.Hooks;

/// <summary>The external hook settings (tusd's flags and defaults), read and checked with the rest of the server's.</summary>
internal sealed record ExternalHookSettings
{
    /// <summary>tusd's events, in its order, and <c>authorize</c>, this server's extension.</summary>
    public static readonly IReadOnlyList<string> KnownEvents =
    [
        HookEvents.PreCreate, HookEvents.PostCreate, HookEvents.PostReceive, HookEvents.PreFinish, HookEvents.PostFinish,
        HookEvents.PreTerminate, HookEvents.PostTerminate, HookEvents.Authorize,
    ];

    /// <summary>tusd's default set: every event but pre-finish and pre-terminate (and authorize, which tusd has not).</summary>
    public const string DefaultEvents = "pre-create,post-create,post-receive,post-terminate,post-finish";

    public static readonly IReadOnlyList<Setting> Settings =
    [
        new("HooksDir", "--hooks-dir", "TUS_HOOKS_DIR", "", SettingKind.Text, "Directory of file hooks: an executable named after each event (pre-create, post-finish, ...) gets the hook request as JSON on stdin, as with tusd; a missing file is skipped."),
        new("HooksHttp", "--hooks-http", "TUS_HOOKS_HTTP", "", SettingKind.Text, "URL that receives each hook request as a JSON POST, as with tusd (use either this or --hooks-dir)."),
        new("HooksHttpForwardHeaders", "--hooks-http-forward-headers", "TUS_HOOKS_HTTP_FORWARD_HEADERS", "", SettingKind.Text, "Comma-separated client request headers also sent as headers of the HTTP hook request (e.g. Authorization,Cookie)."),
        new("HooksHttpRetry", "--hooks-http-retry", "TUS_HOOKS_HTTP_RETRY", "3", SettingKind.Number, "Retries of an HTTP hook request after a network error, a timeout or a 5xx answer."),
        new("HooksHttpBackoff", "--hooks-http-backoff", "TUS_HOOKS_HTTP_BACKOFF", "1", SettingKind.Duration, "Wait before the first retry; it doubles for each further one."),
        new("HooksHttpTimeout", "--hooks-http-timeout", "TUS_HOOKS_HTTP_TIMEOUT", "15", SettingKind.Duration, "How long one HTTP hook request may take."),
        new("HooksHttpSizeLimit", "--hooks-http-size-limit", "TUS_HOOKS_HTTP_SIZE_LIMIT", "65536", SettingKind.Number, "Largest HTTP hook answer accepted, in bytes."),
        new("HooksEnabledEvents", "--hooks-enabled-events", "TUS_HOOKS_ENABLED_EVENTS", DefaultEvents, SettingKind.Text, "Comma-separated events sent to the hooks: pre-create, post-create, post-receive, pre-finish, post-finish, pre-terminate, post-terminate, and authorize (this server's extension: before every HEAD, PATCH, GET and DELETE of an upload and for each partial of a concatenation)."),
        new("HooksTimeout", "--hooks-timeout", "TUS_HOOKS_TIMEOUT", "90", SettingKind.Duration, "How long one hook event may take in all (an HTTP hook's retries included); a pre-hook that runs out is answered 500 ERR_HOOK_FAILED."),
        new("ProgressHooksInterval", "--progress-hooks-interval", "TUS_PROGRESS_HOOKS_INTERVAL", "1000", SettingKind.Number, "Milliseconds between post-receive hooks of an upload receiving bytes."),
    ];

    public string? Directory { get; init; }

    public HttpHookOptions? Http { get; init; }

    public required IReadOnlyList<string> Events { get; init; }

    public TimeSpan Timeout { get; init; }

    public TimeSpan ProgressInterval { get; init; }

    /// <summary>Reads the hook settings; <see langword="null"/> when no hooks are configured.</summary>
    public static ExternalHookSettings? Read(IConfiguration configuration, List<string> errors)
    {
        string Value(string key)
        {
            var setting = Settings.First(s => s.Key == key);
            var value = configuration[setting.ConfigurationKey];
            return string.IsNullOrWhiteSpace(value) ? setting.Default : value.Trim();
        }

        void Invalid(string key, string value, string expected)
        {
            var setting = Settings.First(s => s.Key == key);
            errors.Add($"{setting.Key} ({setting.Flag} / {setting.EnvironmentVariable}): '{value}' is invalid; {expected}.");
        }

        long Number(string key, long min, long max)
        {
            var value = Value(key);
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max)
            {
                return result;
            }

            Invalid(key, value, $"expected a whole number from {min} to {max}");
            return min;
        }

        TimeSpan Duration(string key, bool allowZero)
        {
            var value = Value(key);
            if (ServerSettings.TryParseDuration(value, out var result) && (result > TimeSpan.Zero || allowZero) && result <= TimeSpan.FromDays(1))
            {
                return result;
            }

            Invalid(key, value, "expected a duration of at most a day: seconds (15), with a unit (500ms, 90s, 15m), or hh:mm:ss");
            return TimeSpan.FromSeconds(1);
        }

        var directory = Value("HooksDir");
        var endpoint = Value("HooksHttp");
        if (directory.Length == 0 && endpoint.Length == 0)
        {
            return null;
        }

        if (directory.Length > 0 && endpoint.Length > 0)
        {
            errors.Add("HooksDir (--hooks-dir) and HooksHttp (--hooks-http) cannot both be set: use one kind of hooks, as with tusd.");
            return null;
        }

        var events = Value("HooksEnabledEvents").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in events.Where(e => !KnownEvents.Contains(e)))
        {
            Invalid("HooksEnabledEvents", name, "expected events among " + string.Join(", ", KnownEvents));
        }

        HttpHookOptions? http = null;
        if (endpoint.Length > 0)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                Invalid("HooksHttp", endpoint, "expected an http:// or https:// URL");
            }
            else
            {
                http = new HttpHookOptions(
                    uri,
                    Value("HooksHttpForwardHeaders").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    (int)Number("HooksHttpRetry", 0, 100),
                    Duration("HooksHttpBackoff", allowZero: true),
                    Duration("HooksHttpTimeout", allowZero: false),
                    Number("HooksHttpSizeLimit", 1, 64L << 20));
            }
        }
        else
        {
            try
            {
                directory = Path.GetFullPath(directory);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
            {
                Invalid("HooksDir", directory, "expected a directory path");
            }
        }

        return new ExternalHookSettings
        {
            Directory = http is null ? directory : null,
            Http = http,
            Events = events.Distinct().ToArray(),
            Timeout = Duration("HooksTimeout", allowZero: false),
            ProgressInterval = TimeSpan.FromMilliseconds(Number("ProgressHooksInterval", 10, 3_600_000)),
        };
    }
}

/// <summary>Registers the external hooks with the engine.</summary>
internal static class ExternalHookRegistration
{
    /// <summary>One engine hook per enabled event, all delivered through one transport (file or HTTP).</summary>
    public static ITusBuilder AddExternalHooks(this ITusBuilder builder, ExternalHookSettings? settings)
    {
        if (settings is null)
        {
            return builder;
        }

        var services = builder.Services;
        if (settings.Http is { } http)
        {
            services.TryAddSingleton<IHookTransport>(sp => new HttpHookTransport(http, sp.GetRequiredService<ILogger<HttpHookTransport>>()));
        }
        else
        {
            services.TryAddSingleton<IHookTransport>(sp => new FileHookTransport(settings.Directory!, sp.GetRequiredService<ILogger<FileHookTransport>>()));
        }

        services.TryAddSingleton<ExternalHookInvoker>();
        foreach (var hookType in settings.Events)
        {
            services.AddSingleton<ITusHook>(sp => ExternalHooks.For(hookType, sp.GetRequiredService<ExternalHookInvoker>()));
        }

        services.Configure<TusOptions>(o =>
        {
            o.Hooks.PreHookTimeout = settings.Timeout;
            o.Hooks.PostHookTimeout = settings.Timeout;
            o.Hooks.ProgressInterval = settings.ProgressInterval;
        });
        return builder;
    }
}
