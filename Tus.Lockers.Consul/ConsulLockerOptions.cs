namespace Tus.Lockers.Consul;

/// <summary>Options of the <see cref="ConsulLocker"/>.</summary>
public sealed class ConsulLockerOptions
{
    /// <summary>The shortest session TTL Consul accepts: 10 seconds.</summary>
    public static readonly TimeSpan MinSessionTtl = TimeSpan.FromSeconds(10);

    /// <summary>The longest session TTL Consul accepts: 24 hours.</summary>
    public static readonly TimeSpan MaxSessionTtl = TimeSpan.FromHours(24);

    /// <summary>The longest lock delay Consul accepts: 60 seconds.</summary>
    public static readonly TimeSpan MaxLockDelay = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The address of Consul's HTTP API, e.g. <c>http://127.0.0.1:8500</c> (the local agent). A value without a scheme
    /// gets <c>http://</c>. Default: <see langword="null"/>, which takes the <c>CONSUL_HTTP_ADDR</c> environment variable,
    /// and <c>http://127.0.0.1:8500</c> when that is not set either.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>
    /// The ACL token sent with every call (<c>X-Consul-Token</c>); it needs <c>session:write</c> on the agent's node and
    /// <c>key:write</c> on <see cref="KeyPrefix"/>. Default: <see langword="null"/>, which takes the
    /// <c>CONSUL_HTTP_TOKEN</c> environment variable, and no token when that is not set either.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>
    /// The KV folder the locks live in: upload <c>ID</c> uses <c>{KeyPrefix}ID/lock</c> and, while requests wait for it,
    /// <c>{KeyPrefix}ID/wait/SESSION</c>. Every instance sharing a store must use the same prefix, and instances with
    /// different stores different ones. No leading slash. Default: <c>"tus/locks/"</c>.
    /// </summary>
    public string KeyPrefix { get; set; } = "tus/locks/";

    /// <summary>
    /// The TTL of the Consul session behind each lock. The session is renewed every third of it; when no renewal has
    /// succeeded for half of it (Consul unreachable), the lock reports itself lost, before Consul can invalidate the
    /// session (never earlier than the TTL, often later). A process that dies without releasing blocks its uploads until
    /// Consul invalidates its sessions: between one and two TTLs, plus <see cref="LockDelay"/>. Between
    /// <see cref="MinSessionTtl"/> and <see cref="MaxSessionTtl"/>. Default: 15 seconds.
    /// </summary>
    public TimeSpan SessionTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long Consul keeps a lock from being taken again after the session holding it was invalidated (its TTL ran out,
    /// an operator destroyed it, its node failed), so that the old holder, which learns of the loss only from its own
    /// watch, stops writing before anyone else starts. A lock released normally is free at once. The holder's watch sees
    /// an invalidation within milliseconds and the engine then abandons the store call in progress at once, so a few
    /// seconds is ample; Consul's own default, 15 seconds, would keep an upload locked longer than the engine's default
    /// lock timeout (10 seconds) after every invalidation. Zero disables it. At most <see cref="MaxLockDelay"/>.
    /// Default: 5 seconds.
    /// </summary>
    public TimeSpan LockDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long one call to Consul may take (blocking queries get their wait time on top). A call that fails or times out
    /// makes the acquire fail with <see cref="ConsulUnavailableException"/> (503 to the client, which retries). Between
    /// 100 milliseconds and 5 minutes. Default: 5 seconds.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the options.</summary>
    /// <returns>Every problem found, as messages naming the option; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        var address = ResolveAddress();
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) ||
            uri.PathAndQuery != "/" || !string.IsNullOrEmpty(uri.Fragment))
        {
            problems.Add($"{nameof(ConsulLockerOptions)}.{nameof(Address)} (or CONSUL_HTTP_ADDR): '{address}' is not an http:// or https:// address of Consul's HTTP API, such as http://127.0.0.1:8500.");
        }

        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.StartsWith('/') || KeyPrefix.Contains("//", StringComparison.Ordinal) ||
            KeyPrefix.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '?' or '#' or '%'))
        {
            problems.Add($"{nameof(ConsulLockerOptions)}.{nameof(KeyPrefix)}: '{KeyPrefix}' must be a KV path such as tus/locks/, without a leading slash, spaces, '?', '#' or '%'.");
        }

        if (SessionTtl < MinSessionTtl || SessionTtl > MaxSessionTtl)
        {
            problems.Add($"{nameof(ConsulLockerOptions)}.{nameof(SessionTtl)} must be between {MinSessionTtl.TotalSeconds:F0} s and {MaxSessionTtl.TotalHours:F0} h (Consul's limits); it is {SessionTtl}.");
        }

        if (LockDelay < TimeSpan.Zero || LockDelay > MaxLockDelay)
        {
            problems.Add($"{nameof(ConsulLockerOptions)}.{nameof(LockDelay)} must be between 0 and {MaxLockDelay.TotalSeconds:F0} s; it is {LockDelay}.");
        }

        if (RequestTimeout < TimeSpan.FromMilliseconds(100) || RequestTimeout > TimeSpan.FromMinutes(5))
        {
            problems.Add($"{nameof(ConsulLockerOptions)}.{nameof(RequestTimeout)} must be between 100 ms and 5 min; it is {RequestTimeout}.");
        }

        return problems;
    }

    /// <summary>The effective address: <see cref="Address"/>, <c>CONSUL_HTTP_ADDR</c>, or the local agent's default.</summary>
    internal string ResolveAddress()
    {
        var address = string.IsNullOrWhiteSpace(Address) ? Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR") : Address;
        address = string.IsNullOrWhiteSpace(address) ? "http://127.0.0.1:8500" : address.Trim();
        if (!address.Contains("://", StringComparison.Ordinal))
        {
            address = "http://" + address;
        }

        return address.TrimEnd('/') + "/";
    }

    /// <summary>The effective token: <see cref="Token"/>, <c>CONSUL_HTTP_TOKEN</c>, or none.</summary>
    internal string? ResolveToken()
    {
        var token = string.IsNullOrWhiteSpace(Token) ? Environment.GetEnvironmentVariable("CONSUL_HTTP_TOKEN") : Token;
        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    /// <summary>A copy, so that a locker is not changed by later edits of the options it was created with.</summary>
    internal ConsulLockerOptions Clone() => new()
    {
        Address = Address,
        Token = Token,
        KeyPrefix = KeyPrefix,
        SessionTtl = SessionTtl,
        LockDelay = LockDelay,
        RequestTimeout = RequestTimeout,
    };
}
