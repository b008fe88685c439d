using Tus.Hooks;

namespace Tus;

/// <summary>How the tus engine behaves. Validated once at start-up; see <see cref="Validate"/>.</summary>
public sealed class TusOptions
{
    /// <summary>The largest upload accepted, in bytes, announced as <c>Tus-Max-Size</c>. Default: <see langword="null"/> (no limit).</summary>
    public long? MaxSize { get; set; }

    /// <summary>
    /// How long an unfinished upload lives after its creation (or, with <see cref="SlidingExpiration"/>, after its last
    /// write) before it expires. Enables the expiration extension when the store supports it. Default: <see langword="null"/> (never).
    /// </summary>
    public TimeSpan? Expiration { get; set; }

    /// <summary>Whether every write moves the expiry on by <see cref="Expiration"/>. Default: <see langword="true"/>.</summary>
    public bool SlidingExpiration { get; set; } = true;

    /// <summary>How often the host removes expired uploads. Default: 1 minute.</summary>
    public TimeSpan ExpirationSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a request body may stay silent before the request ends (what arrived is kept). Default: 60 seconds.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a request waits for another request to release an upload before answering 423. Default: 10 seconds.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one storage call may take before the engine abandons it, answers 503 (<c>ERR_STORE_TIMEOUT</c>) and
    /// releases the upload's lock. For an append it is the time the store may spend without progress: without reading
    /// from the body (waiting for a slow client does not count) or, once the body ended, finishing. Default: 60 seconds.
    /// </summary>
    public TimeSpan StoreCallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long the store may take to assemble a final upload from its partial uploads (it copies them all, so it gets
    /// longer than <see cref="StoreCallTimeout"/>). Default: 10 minutes.
    /// </summary>
    public TimeSpan ConcatenationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long store calls in flight may go on once the host starts stopping. Request bodies end at once (their bytes
    /// kept, the request answered 503); what the store still has to persist then gets this long before its token fires.
    /// Default: 10 seconds.
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether GET downloads finished uploads. Default: <see langword="true"/>.</summary>
    public bool EnableDownload { get; set; } = true;

    /// <summary>Whether DELETE terminates uploads (when the store can). Default: <see langword="true"/>.</summary>
    public bool EnableTermination { get; set; } = true;

    /// <summary>Whether partial and final uploads are accepted (when the store can). Default: <see langword="true"/>.</summary>
    public bool EnableConcatenation { get; set; } = true;

    /// <summary>Whether a final upload may be created before its partial uploads are finished. Default: <see langword="true"/>.</summary>
    public bool EnableConcatenationUnfinished { get; set; } = true;

    /// <summary>Whether uploads may be created without a length (when the store can). Default: <see langword="true"/>.</summary>
    public bool EnableDeferredLength { get; set; } = true;

    /// <summary>Whether Upload-Checksum is verified (when the store can discard bytes). Default: <see langword="true"/>.</summary>
    public bool EnableChecksum { get; set; } = true;

    /// <summary>
    /// Whether the server is behind a reverse proxy whose X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix and
    /// RFC 7239 Forwarded headers are trusted when building absolute upload URLs. Default: <see langword="false"/>.
    /// </summary>
    public bool BehindProxy { get; set; }

    /// <summary>Cross-origin settings for browser clients.</summary>
    public TusCorsOptions Cors { get; } = new();

    /// <summary>How hooks run: timeouts, the answer to a failing pre-hook, the progress interval and the post-hook queue.
    /// The hooks themselves are registered with <c>services.AddTus().AddHooks&lt;T&gt;()</c> or <c>.OnPreCreate(...)</c>.</summary>
    public TusHookOptions Hooks { get; } = new();

    /// <summary>The IETF resumable-upload draft, served beside tus 1.0 to requests that carry <c>Upload-Draft-Interop-Version</c>.</summary>
    public TusIetfDraftOptions IetfDraft { get; } = new();

    /// <summary>Returns every problem with these options; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxSize is <= 0)
        {
            errors.Add($"{nameof(MaxSize)} must be positive when set (got {MaxSize}).");
        }

        if (Expiration is { } expiration && expiration <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(Expiration)} must be positive when set (got {expiration}).");
        }

        RequirePositive(errors, nameof(ExpirationSweepInterval), ExpirationSweepInterval);
        RequirePositive(errors, nameof(ReadTimeout), ReadTimeout);
        RequirePositive(errors, nameof(LockTimeout), LockTimeout);
        RequirePositive(errors, nameof(StoreCallTimeout), StoreCallTimeout);
        RequirePositive(errors, nameof(ConcatenationTimeout), ConcatenationTimeout);
        if (ShutdownGracePeriod < TimeSpan.Zero || ShutdownGracePeriod > LongestTimer)
        {
            errors.Add($"{nameof(ShutdownGracePeriod)} must be between zero and {LongestTimer.TotalDays:0} days (got {ShutdownGracePeriod}).");
        }
        errors.AddRange(Hooks.Validate());
        errors.AddRange(Cors.Validate());
        errors.AddRange(IetfDraft.Validate(MaxSize));
        return errors;
    }

    // Timers take at most uint.MaxValue - 1 milliseconds (49.7 days); a longer value would throw when first used.
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(49);

    private static void RequirePositive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{name} must be positive (got {value}).");
        }
        else if (value > LongestTimer)
        {
            errors.Add($"{name} must be at most {LongestTimer.TotalDays:0} days (got {value}).");
        }
    }
}

/// <summary>Cross-origin resource sharing for browser clients.</summary>
public sealed class TusCorsOptions
{
    /// <summary>Whether CORS headers are sent at all. Default: <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Origins allowed to use the endpoint, compared exactly (scheme, host and port), or <c>*</c> for any. A request from
    /// another origin is answered 403. Default: <c>*</c>.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = ["*"];

    /// <summary>Whether browsers may send cookies and credentials. Default: <see langword="false"/>.</summary>
    public bool AllowCredentials { get; set; }

    /// <summary>Request headers allowed in addition to the tus headers (e.g. a custom authentication header). Default: none.</summary>
    public IList<string> AllowedHeaders { get; } = [];

    /// <summary>Response headers exposed in addition to the tus headers. Default: none.</summary>
    public IList<string> ExposedHeaders { get; } = [];

    /// <summary>How long browsers may cache a preflight answer. Default: 24 hours.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(24);

    internal IEnumerable<string> Validate()
    {
        foreach (var origin in AllowedOrigins)
        {
            if (origin != "*" && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && !origin.EndsWith('/')))
            {
                yield return $"Cors.AllowedOrigins: '{origin}' is not an origin (expected '*' or scheme://host[:port], without a path).";
            }
        }

        if (MaxAge < TimeSpan.Zero)
        {
            yield return $"Cors.MaxAge must not be negative (got {MaxAge}).";
        }
    }
}

/// <summary>
/// The IETF resumable-upload draft (draft-ietf-httpbis-resumable-upload, interop versions 3 to 9), served by the same
/// engine, store, locker and hooks as tus 1.0; a request speaks it by sending <c>Upload-Draft-Interop-Version</c>.
/// The limits below are announced in <c>Upload-Limit</c> and enforced on draft requests only; <see cref="TusOptions.MaxSize"/>
/// (as <c>max-size</c>) and <see cref="TusOptions.Expiration"/> (as <c>max-age</c>) apply to both protocols.
/// </summary>
public sealed class TusIetfDraftOptions
{
    /// <summary>Whether draft requests are served. Default: <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The smallest upload accepted when its length is known at creation (<c>min-size</c>). Default: <see langword="null"/> (none).</summary>
    public long? MinSize { get; set; }

    /// <summary>The most bytes one creation or append request may carry (<c>max-append-size</c>). Default: <see langword="null"/> (none).</summary>
    public long? MaxAppendSize { get; set; }

    /// <summary>
    /// The fewest bytes a creation or append request with a declared Content-Length may carry unless it completes the
    /// upload or carries none (<c>min-append-size</c>). Default: <see langword="null"/> (none).
    /// </summary>
    public long? MinAppendSize { get; set; }

    internal IEnumerable<string> Validate(long? maxSize)
    {
        foreach (var (name, value) in new[] { (nameof(MinSize), MinSize), (nameof(MaxAppendSize), MaxAppendSize), (nameof(MinAppendSize), MinAppendSize) })
        {
            if (value is < 0)
            {
                yield return $"{nameof(TusOptions.IetfDraft)}.{name} must not be negative (got {value}).";
            }
        }

        if (MaxAppendSize is 0)
        {
            yield return $"{nameof(TusOptions.IetfDraft)}.{nameof(MaxAppendSize)} must be positive when set.";
        }

        if (MinAppendSize is { } min && MaxAppendSize is { } max && min > max)
        {
            yield return $"{nameof(TusOptions.IetfDraft)}.{nameof(MinAppendSize)} ({min}) must not exceed {nameof(MaxAppendSize)} ({max}).";
        }

        if (MinSize is { } minSize && maxSize is { } limit && minSize > limit)
        {
            yield return $"{nameof(TusOptions.IetfDraft)}.{nameof(MinSize)} ({minSize}) must not exceed {nameof(TusOptions.MaxSize)} ({limit}).";
        }
    }
}
