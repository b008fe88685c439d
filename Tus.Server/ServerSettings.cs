using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Tus.Server;

/// <summary>What a setting's value is.</summary>
internal enum SettingKind
{
    Text,
    Number,
    Flag,
    Duration,
}

/// <summary>One server setting: its configuration key (under the <c>Tus</c> section), flag, environment variable, default and help.</summary>
internal sealed record Setting(string Key, string Flag, string EnvironmentVariable, string Default, SettingKind Kind, string Help)
{
    public string ConfigurationKey => ServerSettings.Section + ":" + Key;
}

/// <summary>
/// The one table of server settings. Sources, later ones winning: appsettings.json (section <c>Tus</c>), environment
/// variables (<c>TUS_*</c>), command-line flags.
/// </summary>
internal static class ServerSettings
{
    public const string Section = "Tus";

    public static readonly IReadOnlyList<Setting> All =
    [
        new("Host", "--host", "TUS_HOST", "localhost", SettingKind.Text, "Interface to listen on: localhost (loopback only), an IP address, or 0.0.0.0 for every interface."),
        new("Port", "--port", "TUS_PORT", "8080", SettingKind.Number, "TCP port to listen on; 0 picks a free one (with an IP address as host)."),
        new("BasePath", "--base-path", "TUS_BASE_PATH", "/files/", SettingKind.Text, "URL path of the tus endpoint."),
        new("UploadDir", "--upload-dir", "TUS_UPLOAD_DIR", "./data", SettingKind.Text, "Directory uploads are stored in, relative to the working directory."),
        new("MaxSize", "--max-size", "TUS_MAX_SIZE", "0", SettingKind.Number, "Largest upload accepted, in bytes; 0 means no limit."),
        new("BehindProxy", "--behind-proxy", "TUS_BEHIND_PROXY", "false", SettingKind.Flag, "Trust X-Forwarded-* and Forwarded headers when building upload URLs."),
        new("CorsOrigins", "--cors-origins", "TUS_CORS_ORIGINS", "*", SettingKind.Text, "Comma-separated origins browsers may upload from (scheme://host[:port]), or * for any."),
        new("CorsAllowCredentials", "--cors-allow-credentials", "TUS_CORS_ALLOW_CREDENTIALS", "false", SettingKind.Flag, "Let browsers send cookies and credentials."),
        new("DisableCors", "--disable-cors", "TUS_DISABLE_CORS", "false", SettingKind.Flag, "Send no CORS headers at all."),
        new("DisableDownload", "--disable-download", "TUS_DISABLE_DOWNLOAD", "false", SettingKind.Flag, "Do not serve finished uploads with GET."),
        new("DisableTermination", "--disable-termination", "TUS_DISABLE_TERMINATION", "false", SettingKind.Flag, "Do not let clients delete uploads (termination extension)."),
        new("DisableConcatenation", "--disable-concatenation", "TUS_DISABLE_CONCATENATION", "false", SettingKind.Flag, "Do not accept partial and final uploads (concatenation extension)."),
        new("DisableIetfDraft", "--disable-ietf-draft", "TUS_DISABLE_IETF_DRAFT", "false", SettingKind.Flag, "Serve tus 1.0 only, not the IETF resumable-upload draft (interop versions 3-9) beside it."),
        new("Expiration", "--expiration", "TUS_EXPIRATION", "", SettingKind.Duration, "Remove unfinished uploads this long after their last write; empty or 0 means never."),
        new("ReadTimeout", "--read-timeout", "TUS_READ_TIMEOUT", "60", SettingKind.Duration, "End a request whose body stays silent this long (what arrived is kept)."),
        new("LockTimeout", "--lock-timeout", "TUS_LOCK_TIMEOUT", "10", SettingKind.Duration, "How long a request waits for another one holding the same upload."),
        new("StoreCallTimeout", "--store-call-timeout", "TUS_STORE_CALL_TIMEOUT", "60", SettingKind.Duration, "Abandon a storage call that makes no progress this long (answered 503, lock released; waiting for a slow client does not count)."),
        new("ShutdownGracePeriod", "--shutdown-grace-period", "TUS_SHUTDOWN_GRACE_PERIOD", "10", SettingKind.Duration, "On shutdown, bodies end at once; storage calls still running get this long to finish (0: cancelled at once)."),
        new("DisableKeepReceivedBytes", "--disable-keep-received-bytes", "TUS_DISABLE_KEEP_RECEIVED_BYTES", "false", SettingKind.Flag, "Do not read out the bytes a client sent before closing or half-closing its connection (they are kept by default)."),
        new("FlushToDisk", "--flush-to-disk", "TUS_FLUSH_TO_DISK", "false", SettingKind.Flag, "Flush every write to disk before answering (slower, survives power loss)."),
        new("DisableDirectWrites", "--disable-direct-writes", "TUS_DISABLE_DIRECT_WRITES", "false", SettingKind.Flag, "File store: write through the page cache only (by default, on Linux, an append past 8 MiB writes the rest around it with O_DIRECT)."),
        new("Locker", "--locker", "TUS_LOCKER", "memory", SettingKind.Text, "How uploads are locked: memory (one server process) or consul (several instances sharing the upload directory or bucket)."),
        new("ConsulAddress", "--consul-address", "CONSUL_HTTP_ADDR", "", SettingKind.Text, "Consul's HTTP API for --locker consul; empty means http://127.0.0.1:8500. The ACL token comes from CONSUL_HTTP_TOKEN."),
        new("ConsulKeyPrefix", "--consul-key-prefix", "TUS_CONSUL_KEY_PREFIX", "tus/locks/", SettingKind.Text, "Consul KV folder of the locks; the same for every instance sharing a store, different for different stores."),
        new("Store", "--store", "TUS_STORE", "file", SettingKind.Text, "Where uploads are kept: file (--upload-dir) or s3 (--s3-*; region and credentials from AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or profiles)."),
        new("S3Bucket", "--s3-bucket", "TUS_S3_BUCKET", "", SettingKind.Text, "S3 bucket for uploads (with --store s3); it must exist."),
        new("S3Endpoint", "--s3-endpoint", "TUS_S3_ENDPOINT", "", SettingKind.Text, "Endpoint of an S3-compatible server (Ceph RGW, MinIO, R2, ...), e.g. http://127.0.0.1:7480; empty means Amazon S3."),
        new("S3ObjectPrefix", "--s3-object-prefix", "TUS_S3_OBJECT_PREFIX", "", SettingKind.Text, "Key prefix of the upload objects, e.g. uploads/."),
        new("S3ForcePathStyle", "--s3-force-path-style", "TUS_S3_FORCE_PATH_STYLE", "false", SettingKind.Flag, "Address buckets as endpoint/bucket (most S3-compatible servers need it)."),
        new("S3PartSize", "--s3-part-size", "TUS_S3_PART_SIZE", "8388608", SettingKind.Number, "Preferred part size in bytes (at least 5 MiB); parts grow for very large uploads."),
        new("S3Concurrency", "--s3-concurrency", "TUS_S3_CONCURRENCY", "8", SettingKind.Number, "Parts of one request uploaded at the same time."),
        new("S3MemoryBuffers", "--s3-memory-buffers", "TUS_S3_MEMORY_BUFFERS", "false", SettingKind.Flag, "Buffer parts in memory (bounded: twice the concurrency, one part each) instead of temporary files."),
        new("S3DisableContentHashes", "--s3-disable-content-hashes", "TUS_S3_DISABLE_CONTENT_HASHES", "false", SettingKind.Flag, "Send bodies unsigned (UNSIGNED-PAYLOAD) instead of hashing them with SHA-256 (saves CPU; HTTPS endpoints only, http:// keeps signing)."),
        .. Hooks.ExternalHookSettings.Settings,
        new("QuotaBytes", "--quota-bytes", "TUS_QUOTA_BYTES", "0", SettingKind.Number, "Storage quota: the most bytes all uploads together may take (declared lengths count from creation); 0 means no quota. Refusals are 413 ERR_QUOTA_EXCEEDED; nothing is ever deleted to make room unless --quota-reclaim-after is set."),
        new("QuotaMaxUploadBytes", "--quota-max-upload-bytes", "TUS_QUOTA_MAX_UPLOAD_BYTES", "0", SettingKind.Number, "Quota: the largest single upload, in bytes (413 ERR_QUOTA_EXCEEDED); 0 means no limit."),
        new("QuotaMaxUnfinishedUploads", "--quota-max-unfinished-uploads", "TUS_QUOTA_MAX_UNFINISHED_UPLOADS", "0", SettingKind.Number, "Quota: the most uploads that may be unfinished at once; 0 means no limit."),
        new("QuotaUnfinishedOnly", "--quota-unfinished-only", "TUS_QUOTA_UNFINISHED_ONLY", "false", SettingKind.Flag, "Count only unfinished uploads against --quota-bytes (finished ones are moved elsewhere by the operator)."),
        new("QuotaReclaimAfter", "--quota-reclaim-after", "TUS_QUOTA_RECLAIM_AFTER", "", SettingKind.Duration, "When the quota is full, delete unfinished uploads with no write for this long (oldest first, never one being written, never a finished one) to make room; empty means never delete."),
        new("QuotaResyncInterval", "--quota-resync-interval", "TUS_QUOTA_RESYNC_INTERVAL", "", SettingKind.Duration, "Several instances sharing storage: rebuild the quota's accounting from the store's listing this often; empty means only at start-up."),
        new("ExposeMetrics", "--expose-metrics", "TUS_EXPOSE_METRICS", "false", SettingKind.Flag, "Serve metrics for Prometheus to scrape at --metrics-path."),
        new("MetricsPath", "--metrics-path", "TUS_METRICS_PATH", "/metrics", SettingKind.Text, "URL path of the Prometheus metrics (with --expose-metrics)."),
        new("OtlpEndpoint", "--otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", SettingKind.Text, "Send metrics, traces and logs with OTLP to this collector, e.g. http://127.0.0.1:4317 (gRPC; OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf for HTTP); empty means no export."),
        new("LogFormat", "--log-format", "TUS_LOG_FORMAT", "text", SettingKind.Text, "Console log format: text (one line per entry) or json (one object per line, with scopes such as the upload id)."),
        new("AccessLog", "--access-log", "TUS_ACCESS_LOG", "false", SettingKind.Flag, "Log one line per HTTP request (category Tus.Server.AccessLog): address, method, path, status, bytes, time."),
    ];

    /// <summary>Settings that hold a comma-separated list, which appsettings.json may also give as a JSON array.</summary>
    private static readonly HashSet<string> ListKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "CorsOrigins", "HooksEnabledEvents", "HooksHttpForwardHeaders",
    };

    /// <summary>A list setting given as a JSON array (<c>"CorsOrigins": ["https://a", "https://b"]</c>), comma-joined.</summary>
    private static string? ListValue(IConfiguration configuration, Setting setting)
    {
        if (!ListKeys.Contains(setting.Key))
        {
            return null;
        }

        var items = configuration.GetSection(setting.ConfigurationKey).GetChildren().Select(c => c.Value).OfType<string>().ToList();
        return items.Count == 0 ? null : string.Join(',', items);
    }

    /// <summary>
    /// A misspelt key, or an object where a value belongs, would otherwise be ignored without a word, leaving the setting
    /// at its default (for CORS: any origin), so both are refused like an unknown flag.
    /// </summary>
    private static void CheckSectionShape(IConfiguration configuration, List<string> errors)
    {
        foreach (var child in configuration.GetSection(Section).GetChildren())
        {
            var setting = All.FirstOrDefault(s => string.Equals(s.Key, child.Key, StringComparison.OrdinalIgnoreCase));
            if (setting is null)
            {
                errors.Add($"{Section}:{child.Key}: unknown setting (run with --help to see every setting)");
                continue;
            }

            var children = child.GetChildren().ToList();
            if (children.Count == 0)
            {
                continue;
            }

            if (!ListKeys.Contains(setting.Key))
            {
                errors.Add($"{Section}:{child.Key}: expected a single value, found a list or an object");
            }
            else if (children.Any(c => c.Value is null))
            {
                errors.Add($"{Section}:{child.Key}: expected a list of strings");
            }
        }
    }

    /// <summary>Maps each flag to its configuration key, for <c>AddCommandLine</c>.</summary>
    public static Dictionary<string, string> SwitchMappings() =>
        All.ToDictionary(s => s.Flag, s => s.ConfigurationKey, StringComparer.OrdinalIgnoreCase);

    public static Setting? FindByFlag(string flag) =>
        All.FirstOrDefault(s => string.Equals(s.Flag, flag, StringComparison.OrdinalIgnoreCase));

    public static Setting Get(string key) => All.First(s => s.Key == key);

    /// <summary>The text <c>--help</c> prints.</summary>
    public static string HelpText()
    {
        var text = new StringBuilder();
        text.AppendLine("Tus.Server: a ready-to-run tus (resumable upload protocol 1.0.0) server.");
        text.AppendLine();
        text.AppendLine("Usage: dotnet run --project Tus.Server -- [options]");
        text.AppendLine("       dotnet Tus.Server.dll [options]");
        text.AppendLine("       tus-server [options]   (the native executable, or the .NET tool Tus.Server)");
        text.AppendLine();
        text.AppendLine("Each setting comes from appsettings.json (section \"Tus\", key as shown), the environment variable, or the");
        text.AppendLine("option; later sources win. Durations are seconds (60), with a unit (500ms, 90s, 15m, 2h, 7d), or d.hh:mm:ss.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"OPTION",-34} {"ENVIRONMENT",-28} {"KEY",-22} DEFAULT");
        foreach (var setting in All)
        {
            var option = setting.Kind == SettingKind.Flag ? setting.Flag : setting.Flag + " <" + setting.Kind.ToString().ToLowerInvariant() + ">";
            var defaultValue = setting.Default.Length == 0 ? "(none)" : setting.Default;
            text.AppendLine(CultureInfo.InvariantCulture, $"  {option,-34} {setting.EnvironmentVariable,-28} {setting.Key,-22} {defaultValue}");
            text.AppendLine(CultureInfo.InvariantCulture, $"      {setting.Help}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  {"-h, --help",-34} Print this help and exit.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"--version",-34} Print the version and exit.");
        text.AppendLine();
        text.AppendLine("GET / shows a landing page. GET /health answers \"ok\" while the process runs (liveness); GET /ready answers");
        text.AppendLine("200 when the store takes a write and the locker grants a lock, else 503 (readiness). Stop with Ctrl+C or SIGTERM.");
        return text.ToString();
    }

    /// <summary>
    /// Checks the command line and rewrites it for <c>AddCommandLine</c>: every option as <c>--flag=value</c>, a bare
    /// switch as <c>--flag=true</c>.
    /// </summary>
    /// <returns>The rewritten arguments, whether help was asked for, and every problem found.</returns>
    public static (List<string> Arguments, bool Help, List<string> Errors) NormalizeArguments(IReadOnlyList<string> args)
    {
        var normalized = new List<string>();
        var errors = new List<string>();
        var help = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-?" or "/?")
            {
                help = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{arg}'.");
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var flag = equals < 0 ? arg : arg[..equals];
            string? value = equals < 0 ? null : arg[(equals + 1)..];
            if (FindByFlag(flag) is not { } setting)
            {
                errors.Add($"unknown option '{flag}'.");
                continue;
            }

            if (value is null)
            {
                if (setting.Kind == SettingKind.Flag)
                {
                    // A switch takes an explicit true/false only when one follows.
                    if (i + 1 < args.Count && TryParseBool(args[i + 1], out _))
                    {
                        value = args[++i];
                    }
                    else
                    {
                        value = "true";
                    }
                }
                else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    value = args[++i];
                }
                else
                {
                    errors.Add($"option '{setting.Flag}' needs a value.");
                    continue;
                }
            }

            normalized.Add(setting.Flag + "=" + value);
        }

        return (normalized, help, errors);
    }

    /// <summary>Reads and checks every setting, reporting all problems at once.</summary>
    public static (ServerConfiguration? Configuration, List<string> Errors) Read(IConfiguration configuration)
    {
        var errors = new List<string>();
        CheckSectionShape(configuration, errors);
        string Value(string key)
        {
            var setting = Get(key);
            var value = configuration[setting.ConfigurationKey] ?? ListValue(configuration, setting);
            return string.IsNullOrWhiteSpace(value) ? setting.Default : value.Trim();
        }

        bool Flag(string key)
        {
            var value = Value(key);
            if (TryParseBool(value, out var result))
            {
                return result;
            }

            errors.Add(Describe(Get(key), value, "expected true or false"));
            return false;
        }

        long Number(string key, long min, long max)
        {
            var value = Value(key);
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max)
            {
                return result;
            }

            errors.Add(Describe(Get(key), value, $"expected a whole number from {min} to {max}"));
            return 0;
        }

        TimeSpan? Duration(string key, bool zeroMeansNone)
        {
            var value = Value(key);
            if (value.Length == 0)
            {
                return null;
            }

            if (TryParseDuration(value, out var result) && (result > TimeSpan.Zero || (zeroMeansNone && result == TimeSpan.Zero)))
            {
                return result == TimeSpan.Zero ? null : result;
            }

            errors.Add(Describe(Get(key), value, "expected a positive duration: seconds (60), with a unit (500ms, 90s, 15m, 2h, 7d), or d.hh:mm:ss"));
            return null;
        }

        // A duration for which zero is a meaningful value of its own (not "none").
        TimeSpan ZeroOrMore(string key)
        {
            var value = Value(key);
            if (TryParseDuration(value, out var result))
            {
                return result;
            }

            errors.Add(Describe(Get(key), value, "expected a duration of zero or more: seconds (10), with a unit (500ms, 90s, 15m), or d.hh:mm:ss"));
            return TimeSpan.Zero;
        }

        var host = Value("Host");
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '?' or '#' or '@'))
        {
            errors.Add(Describe(Get("Host"), host, "expected a host name or an IP address"));
        }

        var port = (int)Number("Port", 0, 65535);
        var basePath = Value("BasePath");
        if (!basePath.StartsWith('/') || basePath.Contains('?', StringComparison.Ordinal) || basePath.Contains('#', StringComparison.Ordinal) ||
            basePath.Contains('{', StringComparison.Ordinal) || basePath.Contains('}', StringComparison.Ordinal) || basePath.Any(char.IsWhiteSpace))
        {
            errors.Add(Describe(Get("BasePath"), basePath, "expected a URL path starting with '/', e.g. /files/"));
        }

        basePath = "/" + basePath.Trim('/');
        basePath = basePath.EndsWith('/') ? basePath : basePath + "/";

        var uploadDir = Value("UploadDir");
        string fullUploadDir;
        try
        {
            fullUploadDir = Path.GetFullPath(uploadDir);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            errors.Add(Describe(Get("UploadDir"), uploadDir, "expected a directory path"));
            fullUploadDir = uploadDir;
        }

        var maxSize = Number("MaxSize", 0, long.MaxValue);
        var corsOrigins = Value("CorsOrigins").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (corsOrigins.Length == 0)
        {
            errors.Add(Describe(Get("CorsOrigins"), Value("CorsOrigins"), "expected * or at least one origin"));
        }

        var configurationValues = new ServerConfiguration
        {
            Host = host,
            Port = port,
            BasePath = basePath,
            UploadDirectory = fullUploadDir,
            MaxSize = maxSize == 0 ? null : maxSize,
            BehindProxy = Flag("BehindProxy"),
            CorsOrigins = corsOrigins,
            CorsAllowCredentials = Flag("CorsAllowCredentials"),
            DisableCors = Flag("DisableCors"),
            DisableDownload = Flag("DisableDownload"),
            DisableTermination = Flag("DisableTermination"),
            DisableConcatenation = Flag("DisableConcatenation"),
            DisableIetfDraft = Flag("DisableIetfDraft"),
            Expiration = Duration("Expiration", zeroMeansNone: true),
            ReadTimeout = Duration("ReadTimeout", zeroMeansNone: false) ?? TimeSpan.FromSeconds(60),
            LockTimeout = Duration("LockTimeout", zeroMeansNone: false) ?? TimeSpan.FromSeconds(10),
            StoreCallTimeout = Duration("StoreCallTimeout", zeroMeansNone: false) ?? TimeSpan.FromSeconds(60),
            ShutdownGracePeriod = ZeroOrMore("ShutdownGracePeriod"),
            FlushToDisk = Flag("FlushToDisk"),
            DisableDirectWrites = Flag("DisableDirectWrites"),
            DisableKeepReceivedBytes = Flag("DisableKeepReceivedBytes"),
            Locker = Value("Locker").ToLowerInvariant(),
            ConsulAddress = Value("ConsulAddress"),
            ConsulKeyPrefix = Value("ConsulKeyPrefix"),
            Store = Value("Store").ToLowerInvariant(),
            S3Bucket = Value("S3Bucket"),
            S3Endpoint = Value("S3Endpoint"),
            S3ObjectPrefix = Value("S3ObjectPrefix"),
            S3ForcePathStyle = Flag("S3ForcePathStyle"),
            S3PartSize = Number("S3PartSize", Tus.Stores.S3StoreOptions.S3MinPartSize, Tus.Stores.S3StoreOptions.S3MaxPartSize),
            S3Concurrency = (int)Number("S3Concurrency", 1, 1024),
        };
        configurationValues = configurationValues with
        {
            QuotaBytes = Number("QuotaBytes", 0, long.MaxValue),
            QuotaMaxUploadBytes = Number("QuotaMaxUploadBytes", 0, long.MaxValue),
            QuotaMaxUnfinishedUploads = (int)Number("QuotaMaxUnfinishedUploads", 0, int.MaxValue),
            QuotaUnfinishedOnly = Flag("QuotaUnfinishedOnly"),
            QuotaReclaimAfter = Duration("QuotaReclaimAfter", zeroMeansNone: true),
            QuotaResyncInterval = Duration("QuotaResyncInterval", zeroMeansNone: true),
        };
        if (!configurationValues.HasQuota && (configurationValues.QuotaReclaimAfter is not null || configurationValues.QuotaResyncInterval is not null || configurationValues.QuotaUnfinishedOnly))
        {
            errors.Add("--quota-reclaim-after, --quota-resync-interval and --quota-unfinished-only need a quota: set --quota-bytes, --quota-max-upload-bytes or --quota-max-unfinished-uploads.");
        }

        var metricsPath = Value("MetricsPath");
        if (!metricsPath.StartsWith('/') || metricsPath.Length == 1 || metricsPath.Any(c => char.IsWhiteSpace(c) || c is '?' or '#' or '{' or '}'))
        {
            errors.Add(Describe(Get("MetricsPath"), metricsPath, "expected a URL path starting with '/', e.g. /metrics"));
        }
        else if (("/" + metricsPath.Trim('/') + "/").StartsWith(basePath, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(Describe(Get("MetricsPath"), metricsPath, $"expected a path outside the tus endpoint {basePath}"));
        }

        var otlpEndpoint = Value("OtlpEndpoint");
        if (otlpEndpoint.Length > 0 && !(Uri.TryCreate(otlpEndpoint, UriKind.Absolute, out var otlp) && otlp.Scheme is "http" or "https"))
        {
            errors.Add(Describe(Get("OtlpEndpoint"), otlpEndpoint, "expected an http or https URL such as http://127.0.0.1:4317"));
        }

        var logFormat = Value("LogFormat").ToLowerInvariant();
        if (logFormat is not ("text" or "json"))
        {
            errors.Add(Describe(Get("LogFormat"), Value("LogFormat"), "expected text or json"));
        }

        configurationValues = configurationValues with
        {
            ExposeMetrics = Flag("ExposeMetrics"),
            MetricsPath = "/" + metricsPath.Trim('/'),
            OtlpEndpoint = otlpEndpoint,
            LogFormat = logFormat,
            AccessLog = Flag("AccessLog"),
        };
        var disableHashes = Flag("S3DisableContentHashes");
        var memoryBuffers = Flag("S3MemoryBuffers");
        configurationValues = configurationValues with { S3DisableContentHashes = disableHashes, S3MemoryBuffers = memoryBuffers };
        configurationValues = configurationValues with { Hooks = Hooks.ExternalHookSettings.Read(configuration, errors) };
        if (configurationValues.Store is not ("file" or "s3"))
        {
            errors.Add(Describe(Get("Store"), Value("Store"), "expected file or s3"));
        }

        if (configurationValues.S3Endpoint.Length > 0 && !Uri.TryCreate(configurationValues.S3Endpoint, UriKind.Absolute, out _))
        {
            errors.Add(Describe(Get("S3Endpoint"), configurationValues.S3Endpoint, "expected an absolute URL such as http://127.0.0.1:7480"));
        }

        if (configurationValues.Locker is not ("memory" or "consul"))
        {
            errors.Add(Describe(Get("Locker"), Value("Locker"), "expected memory or consul"));
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        // What the engine and the store check themselves, reported with the rest.
        var options = new TusOptions();
        configurationValues.Apply(options);
        errors.AddRange(options.Validate());
        if (configurationValues.Store == "s3")
        {
            var s3Options = new Tus.Stores.S3StoreOptions();
            configurationValues.Apply(s3Options);
            errors.AddRange(s3Options.Validate());
        }
        else
        {
            var storeOptions = new Tus.Stores.FileStoreOptions();
            configurationValues.Apply(storeOptions);
            errors.AddRange(storeOptions.Validate());
        }

        if (configurationValues.Locker == "consul")
        {
            var lockerOptions = new Tus.Lockers.Consul.ConsulLockerOptions();
            configurationValues.Apply(lockerOptions);
            errors.AddRange(lockerOptions.Validate());
        }

        return errors.Count > 0 ? (null, errors) : (configurationValues, errors);
    }

    /// <summary>Where a setting's effective value came from, for the start-up log.</summary>
    public static string SourceOf(IConfigurationRoot configuration, Setting setting)
    {
        foreach (var provider in configuration.Providers.Reverse())
        {
            if (provider.TryGet(setting.ConfigurationKey, out var value) && !string.IsNullOrWhiteSpace(value))
            {
                return provider switch
                {
                    Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider => setting.Flag,
                    TusEnvironmentVariablesConfigurationProvider => setting.EnvironmentVariable,
                    Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider json => json.Source.Path ?? "appsettings.json",
                    Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider => "environment",
                    _ => provider.ToString() ?? "configuration",
                };
            }
        }

        return "default";
    }

    internal static bool TryParseBool(string value, out bool result)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                result = true;
                return true;
            case "false" or "0" or "no" or "off":
                result = false;
                return true;
            default:
                result = false;
                return false;
        }
    }

    internal static bool TryParseDuration(string value, out TimeSpan result)
    {
        value = value.Trim();
        var units = new (string Suffix, double Seconds)[] { ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400) };
        foreach (var (suffix, seconds) in units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) &&
                double.TryParse(value[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return TryFromSeconds(amount * seconds, out result);
            }
        }

        if (double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var plainSeconds))
        {
            return TryFromSeconds(plainSeconds, out result);
        }

        return TimeSpan.TryParseExact(value, "c", CultureInfo.InvariantCulture, out result) && result >= TimeSpan.Zero;
    }

    private static bool TryFromSeconds(double seconds, out TimeSpan result)
    {
        result = default;
        if (double.IsNaN(seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        result = TimeSpan.FromSeconds(seconds);
        return true;
    }

    private static string Describe(Setting setting, string value, string expected) =>
        $"{setting.Key} ({setting.Flag} / {setting.EnvironmentVariable}): '{value}' is invalid; {expected}.";
}

/// <summary>Maps the <c>TUS_*</c> environment variables of the settings table to their configuration keys.</summary>
internal sealed class TusEnvironmentVariablesConfigurationProvider : ConfigurationProvider, IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in ServerSettings.All)
        {
            if (Environment.GetEnvironmentVariable(setting.EnvironmentVariable) is { } value)
            {
                data[setting.ConfigurationKey] = value;
            }
        }

        Data = data;
    }

    public override string ToString() => "TUS_* environment variables";
}

/// <summary>The server's effective, validated settings.</summary>
internal sealed record ServerConfiguration
{
    public required string Host { get; init; }

    public required int Port { get; init; }

    public required string BasePath { get; init; }

    public required string UploadDirectory { get; init; }

    public long? MaxSize { get; init; }

    public bool BehindProxy { get; init; }

    public required IReadOnlyList<string> CorsOrigins { get; init; }

    public bool CorsAllowCredentials { get; init; }

    public bool DisableCors { get; init; }

    public bool DisableDownload { get; init; }

    public bool DisableKeepReceivedBytes { get; init; }

    public bool DisableTermination { get; init; }

    public bool DisableConcatenation { get; init; }

    public bool DisableIetfDraft { get; init; }

    public TimeSpan? Expiration { get; init; }

    public TimeSpan ReadTimeout { get; init; }

    public TimeSpan LockTimeout { get; init; }

    public TimeSpan StoreCallTimeout { get; init; }

    public TimeSpan ShutdownGracePeriod { get; init; }

    public bool FlushToDisk { get; init; }

    public bool DisableDirectWrites { get; init; }

    /// <summary><c>memory</c> or <c>consul</c>.</summary>
    public string Locker { get; init; } = "memory";

    public string ConsulAddress { get; init; } = "";

    public string ConsulKeyPrefix { get; init; } = "tus/locks/";

    /// <summary><c>file</c> or <c>s3</c>.</summary>
    public string Store { get; init; } = "file";

    public string S3Bucket { get; init; } = "";

    public string S3Endpoint { get; init; } = "";

    public string S3ObjectPrefix { get; init; } = "";

    public bool S3ForcePathStyle { get; init; }

    public long S3PartSize { get; init; } = 8L * 1024 * 1024;

    public int S3Concurrency { get; init; } = 8;

    public bool S3DisableContentHashes { get; init; }

    public bool S3MemoryBuffers { get; init; }

    /// <summary>External (file or HTTP) hooks, or <see langword="null"/> for none.</summary>
    public Hooks.ExternalHookSettings? Hooks { get; init; }

    public long QuotaBytes { get; init; }

    public long QuotaMaxUploadBytes { get; init; }

    public int QuotaMaxUnfinishedUploads { get; init; }

    public bool QuotaUnfinishedOnly { get; init; }

    public TimeSpan? QuotaReclaimAfter { get; init; }

    public TimeSpan? QuotaResyncInterval { get; init; }

    /// <summary>Whether any quota limit is set, so that the store is wrapped in Tus.Stores.Limited.</summary>
    public bool HasQuota => QuotaBytes > 0 || QuotaMaxUploadBytes > 0 || QuotaMaxUnfinishedUploads > 0;

    public bool ExposeMetrics { get; init; }

    public string MetricsPath { get; init; } = "/metrics";

    public string OtlpEndpoint { get; init; } = "";

    /// <summary><c>text</c> or <c>json</c>.</summary>
    public string LogFormat { get; init; } = "text";

    public bool AccessLog { get; init; }

    /// <summary>Where uploads go, for the start-up log.</summary>
    public string StorageDescription => Store == "s3"
        ? $"s3://{S3Bucket}/{S3ObjectPrefix}" + (S3Endpoint.Length > 0 ? $" at {S3Endpoint}" : "")
        : UploadDirectory;

    /// <summary>The URL Kestrel listens on.</summary>
    public string ListenUrl =>
        IPAddress.TryParse(Host.Trim('[', ']'), out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"http://[{address}]:{Port.ToString(CultureInfo.InvariantCulture)}"
            : $"http://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public void Apply(TusOptions options)
    {
        options.MaxSize = MaxSize;
        options.BehindProxy = BehindProxy;
        options.Expiration = Expiration;
        options.ReadTimeout = ReadTimeout;
        options.LockTimeout = LockTimeout;
        options.StoreCallTimeout = StoreCallTimeout;
        options.ShutdownGracePeriod = ShutdownGracePeriod;
        options.EnableDownload = !DisableDownload;
        options.EnableTermination = !DisableTermination;
        options.EnableConcatenation = !DisableConcatenation;
        options.IetfDraft.Enabled = !DisableIetfDraft;
        options.Cors.Enabled = !DisableCors;
        options.Cors.AllowCredentials = CorsAllowCredentials;
        options.Cors.AllowedOrigins.Clear();
        foreach (var origin in CorsOrigins)
        {
            options.Cors.AllowedOrigins.Add(origin);
        }
    }

    public void Apply(Tus.Stores.S3StoreOptions options)
    {
        options.Bucket = S3Bucket;
        options.ObjectPrefix = S3ObjectPrefix;
        options.Endpoint = S3Endpoint.Length > 0 && Uri.TryCreate(S3Endpoint, UriKind.Absolute, out var endpoint) ? endpoint : null;
        options.ForcePathStyle = S3ForcePathStyle;
        options.PreferredPartSize = S3PartSize;
        options.MaxPartSize = Math.Max(S3PartSize, options.MaxPartSize);
        options.MaxConcurrentPartUploads = S3Concurrency;
        options.MaxBufferedParts = Math.Max(options.MaxBufferedParts, (S3Concurrency + 1) * 2);
        options.DisableContentHashes = S3DisableContentHashes;
        options.BufferInMemory = S3MemoryBuffers;
        options.Region = Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } ? null : (S3Endpoint.Length > 0 ? "us-east-1" : null);
    }

    public void Apply(Tus.Stores.FileStoreOptions options)
    {
        options.Directory = UploadDirectory;
        options.FlushToDisk = FlushToDisk;
        options.DirectWrites = !DisableDirectWrites;
    }

    public void Apply(Tus.Stores.QuotaOptions options)
    {
        options.MaxTotalBytes = QuotaBytes > 0 ? QuotaBytes : null;
        options.MaxUploadBytes = QuotaMaxUploadBytes > 0 ? QuotaMaxUploadBytes : null;
        options.MaxUnfinishedUploads = QuotaMaxUnfinishedUploads > 0 ? QuotaMaxUnfinishedUploads : null;
        options.CountFinishedUploads = !QuotaUnfinishedOnly;
        options.ReclaimAfter = QuotaReclaimAfter;
        options.ResyncInterval = QuotaResyncInterval;
    }

    public void Apply(Tus.Lockers.Consul.ConsulLockerOptions options)
    {
        // Empty leaves the locker's own default: CONSUL_HTTP_ADDR, then the local agent. The token is read from
        // CONSUL_HTTP_TOKEN by the locker itself, so that it is never a flag (visible in ps) nor in the start-up log.
        options.Address = ConsulAddress.Length == 0 ? null : ConsulAddress;
        options.KeyPrefix = ConsulKeyPrefix;
    }
}
