using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Tus.DependencyInjection;

/// <summary>
/// Binds <see cref="TusOptions"/> from a configuration section (appsettings.json, environment variables, ...) by hand:
/// trim- and AOT-safe without reflection, lists replaced rather than appended to, and every unreadable value or unknown
/// key reported at start-up together with the options' own validation, instead of one exception at first use.
/// </summary>
internal sealed class TusOptionsBinder(IConfiguration section) : IConfigureOptions<TusOptions>
{
    private readonly List<string> _problems = [];

    /// <summary>What could not be bound, after <see cref="Configure"/> ran; each names the configuration key.</summary>
    public IReadOnlyList<string> Problems => _problems;

    public void Configure(TusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _problems.Clear();
        foreach (var entry in section.GetChildren())
        {
            switch (entry.Key.ToUpperInvariant())
            {
                case "MAXSIZE": Long(entry, v => options.MaxSize = v); break;
                case "EXPIRATION": Duration(entry, v => options.Expiration = v, allowNone: true); break;
                case "SLIDINGEXPIRATION": Bool(entry, v => options.SlidingExpiration = v); break;
                case "EXPIRATIONSWEEPINTERVAL": Duration(entry, v => options.ExpirationSweepInterval = v!.Value); break;
                case "READTIMEOUT": Duration(entry, v => options.ReadTimeout = v!.Value); break;
                case "LOCKTIMEOUT": Duration(entry, v => options.LockTimeout = v!.Value); break;
                case "STORECALLTIMEOUT": Duration(entry, v => options.StoreCallTimeout = v!.Value); break;
                case "CONCATENATIONTIMEOUT": Duration(entry, v => options.ConcatenationTimeout = v!.Value); break;
                case "SHUTDOWNGRACEPERIOD": Duration(entry, v => options.ShutdownGracePeriod = v!.Value); break;
                case "ENABLEDOWNLOAD": Bool(entry, v => options.EnableDownload = v); break;
                case "ENABLETERMINATION": Bool(entry, v => options.EnableTermination = v); break;
                case "ENABLECONCATENATION": Bool(entry, v => options.EnableConcatenation = v); break;
                case "ENABLECONCATENATIONUNFINISHED": Bool(entry, v => options.EnableConcatenationUnfinished = v); break;
                case "ENABLEDEFERREDLENGTH": Bool(entry, v => options.EnableDeferredLength = v); break;
                case "ENABLECHECKSUM": Bool(entry, v => options.EnableChecksum = v); break;
                case "BEHINDPROXY": Bool(entry, v => options.BehindProxy = v); break;
                case "CORS": BindCors(entry, options.Cors); break;
                case "HOOKS": BindHooks(entry, options.Hooks); break;
                case "IETFDRAFT": BindIetfDraft(entry, options.IetfDraft); break;
                default: Unknown(entry); break;
            }
        }
    }

    private void BindIetfDraft(IConfigurationSection draft, TusIetfDraftOptions options)
    {
        foreach (var entry in draft.GetChildren())
        {
            switch (entry.Key.ToUpperInvariant())
            {
                case "ENABLED": Bool(entry, v => options.Enabled = v); break;
                case "MINSIZE": Long(entry, v => options.MinSize = v); break;
                case "MAXAPPENDSIZE": Long(entry, v => options.MaxAppendSize = v); break;
                case "MINAPPENDSIZE": Long(entry, v => options.MinAppendSize = v); break;
                default: Unknown(entry); break;
            }
        }
    }

    private void BindCors(IConfigurationSection cors, TusCorsOptions options)
    {
        foreach (var entry in cors.GetChildren())
        {
            switch (entry.Key.ToUpperInvariant())
            {
                case "ENABLED": Bool(entry, v => options.Enabled = v); break;
                case "ALLOWCREDENTIALS": Bool(entry, v => options.AllowCredentials = v); break;
                case "MAXAGE": Duration(entry, v => options.MaxAge = v!.Value); break;
                case "ALLOWEDORIGINS": List(entry, options.AllowedOrigins); break;
                case "ALLOWEDHEADERS": List(entry, options.AllowedHeaders); break;
                case "EXPOSEDHEADERS": List(entry, options.ExposedHeaders); break;
                default: Unknown(entry); break;
            }
        }
    }

    private void BindHooks(IConfigurationSection hooks, Hooks.TusHookOptions options)
    {
        foreach (var entry in hooks.GetChildren())
        {
            switch (entry.Key.ToUpperInvariant())
            {
                case "PREHOOKTIMEOUT": Duration(entry, v => options.PreHookTimeout = v!.Value); break;
                case "POSTHOOKTIMEOUT": Duration(entry, v => options.PostHookTimeout = v!.Value); break;
                case "PROGRESSINTERVAL": Duration(entry, v => options.ProgressInterval = v!.Value); break;
                case "POSTHOOKQUEUECAPACITY": Long(entry, v => options.PostHookQueueCapacity = (int)Math.Clamp(v ?? 0, 0, int.MaxValue)); break;
                case "POSTHOOKCONCURRENCY": Long(entry, v => options.PostHookConcurrency = (int)Math.Clamp(v ?? 0, 0, int.MaxValue)); break;
                default: Unknown(entry); break;
            }
        }
    }

    private void Unknown(IConfigurationSection entry) =>
        _problems.Add($"{entry.Path}: unknown setting (see TusOptions for the settings tus reads).");

    private void Long(IConfigurationSection entry, Action<long?> set)
    {
        if (string.IsNullOrWhiteSpace(entry.Value))
        {
            set(null);
        }
        else if (long.TryParse(entry.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            set(value);
        }
        else
        {
            _problems.Add($"{entry.Path}: '{entry.Value}' is not a whole number of bytes.");
        }
    }

    private void Bool(IConfigurationSection entry, Action<bool> set)
    {
        if (bool.TryParse(entry.Value?.Trim(), out var value))
        {
            set(value);
        }
        else
        {
            _problems.Add($"{entry.Path}: '{entry.Value}' is not true or false.");
        }
    }

    /// <summary>A duration as a TimeSpan ("00:05:00", "1.00:00:00") or a number of seconds ("300").</summary>
    private void Duration(IConfigurationSection entry, Action<TimeSpan?> set, bool allowNone = false)
    {
        var text = entry.Value?.Trim();
        if (string.IsNullOrEmpty(text) && allowNone)
        {
            set(null);
        }
        else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds)
        {
            set(TimeSpan.FromSeconds(seconds));
        }
        else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            set(value);
        }
        else
        {
            _problems.Add($"{entry.Path}: '{entry.Value}' is not a duration (seconds, or hh:mm:ss).");
        }
    }

    /// <summary>A list given as array entries (Key:0, Key:1) or as one comma-separated value; it replaces the default.</summary>
    private static void List(IConfigurationSection entry, IList<string> target)
    {
        var values = entry.Value is { } single
            ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : entry.GetChildren().Select(c => c.Value?.Trim()).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray();
        target.Clear();
        foreach (var value in values)
        {
            target.Add(value);
        }
    }
}

/// <summary>Registered with a configuration binding, so that start-up validation can report what could not be bound.</summary>
internal sealed class TusConfigurationSource(TusOptionsBinder binder)
{
    public IReadOnlyList<string> Problems => binder.Problems;
}
