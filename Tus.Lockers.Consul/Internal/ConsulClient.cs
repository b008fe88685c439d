using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tus.Lockers.Consul.Internal;

/// <summary>A KV folder's entries and the index to block on for the next change.</summary>
internal readonly record struct KvListing(IReadOnlyList<KvEntry> Entries, long Index);

/// <summary>The outcome of a transaction: its results, or why it was refused.</summary>
internal readonly record struct TxnOutcome(bool Succeeded, IReadOnlyList<TxnResult> Results, string? Refusal)
{
    /// <summary>Whether Consul refused a lock only because of the lock delay of a recently invalidated session.</summary>
    public bool RefusedByLockDelay => Refusal?.Contains("lock delay", StringComparison.OrdinalIgnoreCase) == true;
}

/// <summary>
/// The few calls of Consul's HTTP API the locker makes (sessions, KV listings with blocking queries, transactions), with
/// HttpClient and source-generated JSON. Every call is bounded by the request timeout (blocking queries by their wait on
/// top); a failure, a timeout or an unexpected status becomes <see cref="ConsulUnavailableException"/>, while the caller's
/// own cancellation propagates as <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class ConsulClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _requestTimeout;

    public ConsulClient(Uri address, string? token, TimeSpan requestTimeout)
    {
        _requestTimeout = requestTimeout;
        var handler = new SocketsHttpHandler
        {
            // Re-resolve the address now and then (an agent behind a DNS name can move); blocking queries keep
            // connections busy for long, so the pool grows with the number of locks held and waited for.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = requestTimeout,
            UseProxy = false,
        };
        _http = new HttpClient(handler) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation("X-Consul-Token", token);
        }

        Address = address;
    }

    public Uri Address { get; }

    /// <summary>Creates a session and returns its id.</summary>
    public async Task<string> CreateSessionAsync(SessionCreateRequest request, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Put, "v1/session/create", Json(request, ConsulJsonContext.Default.SessionCreateRequest), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            EnsureSuccess(response.Message, "session create");
            var created = await ReadJsonAsync(response, ConsulJsonContext.Default.SessionCreateResponse, "session create", cancellationToken).ConfigureAwait(false);
            return created?.ID is { Length: > 0 } id ? id : throw new ConsulUnavailableException("Consul answered a session create without an ID.");
        }
    }

    /// <summary>Renews a session; <see langword="false"/> when Consul no longer knows it (it was invalidated).</summary>
    public async Task<bool> RenewSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Put, "v1/session/renew/" + sessionId, null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (response.Message.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }

            EnsureSuccess(response.Message, "session renew");
            return true;
        }
    }

    /// <summary>Destroys a session: Consul deletes the keys it still holds (behavior "delete").</summary>
    public async Task DestroySessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Put, "v1/session/destroy/" + sessionId, null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            EnsureSuccess(response.Message, "session destroy");
        }
    }

    /// <summary>
    /// Lists the entries under <paramref name="folder"/>. With an <paramref name="index"/> above zero this is a blocking
    /// query: Consul answers once the folder changed past that index, or after <paramref name="wait"/>.
    /// </summary>
    public async Task<KvListing> ListAsync(string folder, long index, TimeSpan wait, CancellationToken cancellationToken)
    {
        var path = "v1/kv/" + folder + "?recurse";
        if (index > 0)
        {
            // Consul adds up to wait/16 of jitter to a blocking query's wait.
            path += "&index=" + index.ToString(CultureInfo.InvariantCulture) + "&wait=" + ((long)wait.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        }
        else
        {
            wait = TimeSpan.Zero;
        }

        var response = await SendAsync(HttpMethod.Get, path, null, wait + wait / 16, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            var next = 0L;
            if (response.Message.Headers.TryGetValues("X-Consul-Index", out var values))
            {
                _ = long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out next);
            }

            if (response.Message.StatusCode == HttpStatusCode.NotFound)
            {
                return new KvListing([], next);
            }

            EnsureSuccess(response.Message, "KV list");
            var entries = await ReadJsonAsync(response, ConsulJsonContext.Default.ListKvEntry, "KV list", cancellationToken).ConfigureAwait(false);
            return new KvListing(entries ?? [], next);
        }
    }

    /// <summary>Runs KV operations atomically: all of them, or none (with Consul's reason).</summary>
    public async Task<TxnOutcome> TransactAsync(List<TxnOperation> operations, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Put, "v1/txn", Json(operations, ConsulJsonContext.Default.ListTxnOperation), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (response.Message.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
            {
                EnsureSuccess(response.Message, "transaction");
            }

            var answer = await ReadJsonAsync(response, ConsulJsonContext.Default.TxnResponse, "transaction", cancellationToken).ConfigureAwait(false);
            if (response.Message.StatusCode == HttpStatusCode.OK)
            {
                return new TxnOutcome(true, answer?.Results ?? [], null);
            }

            var refusal = answer?.Errors is { Count: > 0 } errors ? string.Join("; ", errors.Select(e => e.What)) : "refused";
            return new TxnOutcome(false, [], refusal);
        }
    }

    /// <summary>The address of the cluster's leader, empty when there is none.</summary>
    public async Task<string> LeaderAsync(CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, "v1/status/leader", null, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            EnsureSuccess(response.Message, "status/leader");
            return (await response.Message.Content.ReadAsStringAsync(response.Timeout.Token).ConfigureAwait(false)).Trim().Trim('"');
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<Pending> SendAsync(HttpMethod method, string path, HttpContent? content, TimeSpan extra, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_requestTimeout + extra);
        using var request = new HttpRequestMessage(method, path) { Content = content };
        try
        {
            var message = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return new Pending(message, timeout);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            timeout.Dispose();
            throw;
        }
        catch (OperationCanceledException exception)
        {
            timeout.Dispose();
            throw new ConsulUnavailableException($"Consul at {Address} did not answer {method} /{Strip(path)} within {(_requestTimeout + extra).TotalSeconds:F1} s.", exception);
        }
        catch (HttpRequestException exception)
        {
            timeout.Dispose();
            throw new ConsulUnavailableException($"Consul at {Address} could not be reached for {method} /{Strip(path)}: {exception.Message}", exception);
        }
        catch (ObjectDisposedException exception)
        {
            // The locker was disposed (the host is stopping) while a lock or a wait still used it.
            timeout.Dispose();
            throw new ConsulUnavailableException("The Consul locker was disposed.", exception);
        }
    }

    private static async Task<T?> ReadJsonAsync<T>(Pending response, JsonTypeInfo<T> type, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Message.Content.ReadFromJsonAsync(type, response.Timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception) when (exception is OperationCanceledException or HttpRequestException or IOException or System.Text.Json.JsonException)
        {
            throw new ConsulUnavailableException($"Consul's answer to a {what} could not be read: {exception.Message}", exception);
        }
    }

    private void EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new ConsulUnavailableException($"Consul at {Address} answered a {what} with {(int)response.StatusCode} {response.ReasonPhrase}" +
                (response.StatusCode == HttpStatusCode.Forbidden ? " (check the ACL token: it needs session:write and key:write on the key prefix)." : "."));
        }
    }

    // Serialized up front, so the request has a Content-Length: Consul ignores a chunked body on some endpoints (a session
    // created from one silently gets the defaults: no TTL, a 15 s lock delay, behavior "release").
    private static ByteArrayContent Json<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static string Strip(string path) => path.Split('?')[0];

    /// <summary>A response whose body is still to be read, with the timeout that bounds reading it.</summary>
    private readonly record struct Pending(HttpResponseMessage Message, CancellationTokenSource Timeout) : IDisposable
    {
        public void Dispose()
        {
            Message.Dispose();
            Timeout.Dispose();
        }
    }
}
