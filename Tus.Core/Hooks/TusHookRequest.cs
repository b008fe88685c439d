using System.Net;
using System.Security.Claims;

namespace Tus.Hooks;

/// <summary>
/// The request that caused a hook event, as a snapshot: unlike the live request it stays valid after the response was
/// sent, so post-hooks running in the background can read it too.
/// </summary>
public sealed class TusHookRequest
{
    /// <summary>Creates a snapshot.</summary>
    /// <param name="method">The HTTP method, after <c>X-HTTP-Method-Override</c>.</param>
    /// <param name="uri">The request path.</param>
    /// <param name="remoteEndPoint">The client's address and port, or <see langword="null"/>.</param>
    /// <param name="headers">Every header, each value of a repeated header as a pair of its own.</param>
    /// <param name="user">The authenticated user, or <see langword="null"/>.</param>
    public TusHookRequest(string method, string uri, IPEndPoint? remoteEndPoint, IReadOnlyList<KeyValuePair<string, string>> headers, ClaimsPrincipal? user)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(headers);
        Method = method;
        Uri = uri;
        RemoteEndPoint = remoteEndPoint;
        Headers = headers;
        User = user;
    }

    /// <summary>The HTTP method, after <c>X-HTTP-Method-Override</c> (so a DELETE sent as an overridden POST reads DELETE).</summary>
    public string Method { get; }

    /// <summary>The request path: the endpoint's path followed by the upload id, e.g. <c>/files/abc</c>.</summary>
    public string Uri { get; }

    /// <summary>The client's address and port as the transport saw it (a proxy's, behind one), or <see langword="null"/>.</summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Every request header, each value of a repeated header as a pair of its own, names as sent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The authenticated user, when the host has one.</summary>
    public ClaimsPrincipal? User { get; }

    /// <summary>Returns a header's values joined by commas, or <see langword="null"/> when absent.</summary>
    /// <param name="name">The header name, case-insensitive.</param>
    public string? GetHeader(string name)
    {
        var values = GetHeaderValues(name);
        return values.Count == 0 ? null : string.Join(',', values);
    }

    /// <summary>Returns every value of a header, in the order received; empty when absent.</summary>
    /// <param name="name">The header name, case-insensitive.</param>
    public IReadOnlyList<string> GetHeaderValues(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<string>? values = null;
        foreach (var header in Headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                (values ??= []).Add(header.Value);
            }
        }

        return values is null ? [] : values;
    }
}

/// <summary>
/// What a hook wants changed in the response: a status code, headers and a body. Used for the answer to a rejected or
/// stopped request, and for the responses a pre-create or pre-finish hook adds to.
/// </summary>
public sealed class TusHookResponse
{
    /// <summary>The status code; <see langword="null"/> keeps the engine's. A rejection takes 400 to 599, a success 200 to
    /// 299; other values are ignored. Default: <see langword="null"/>.</summary>
    public int? StatusCode { get; set; }

    /// <summary>Headers to add or replace (names case-insensitive). <c>Content-Length</c> and <c>Transfer-Encoding</c>
    /// are computed by the engine and ignored here. Default: none.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>A body to send instead of the engine's, as UTF-8 text (ignored for HEAD and downloads). Without a
    /// <c>Content-Type</c> header it is sent as <c>text/plain</c>. Default: <see langword="null"/>.</summary>
    public string? Body { get; set; }

    /// <summary>Whether anything was set.</summary>
    public bool IsEmpty => StatusCode is null && Headers.Count == 0 && Body is null;

    /// <summary>Copies what <paramref name="other"/> sets over what this sets: later hooks win.</summary>
    /// <param name="other">The changes of a later hook.</param>
    public void MergeFrom(TusHookResponse other)
    {
        ArgumentNullException.ThrowIfNull(other);
        StatusCode = other.StatusCode ?? StatusCode;
        Body = other.Body ?? Body;
        foreach (var header in other.Headers)
        {
            Headers[header.Key] = header.Value;
        }
    }
}
