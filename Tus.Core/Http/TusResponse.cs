using Tus.Protocol;

namespace Tus.Http;

/// <summary>The engine's answer to one request, for a hosting adapter to write out.</summary>
public sealed class TusResponse
{
    private readonly List<KeyValuePair<string, string>> _headers = [];

    internal TusResponse(int statusCode) => StatusCode = statusCode;

    /// <summary>The HTTP status code.</summary>
    public int StatusCode { get; internal set; }

    /// <summary>The response headers, in the order they were set; each name appears once.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>The error this response reports, or <see langword="null"/> for a success.</summary>
    public TusError? Error { get; internal set; }

    /// <summary>A small body (an error message), or empty.</summary>
    public ReadOnlyMemory<byte> Body { get; internal set; }

    /// <summary>A streamed body (a download), or <see langword="null"/>; the adapter copies and then disposes it.</summary>
    public Stream? BodyStream { get; internal set; }

    /// <summary>The length of the body; <see langword="null"/> when there is none to announce (HEAD, 204).</summary>
    public long? ContentLength { get; internal set; }

    /// <summary>The upload as the request last saw it (for a dialect that describes it in its own headers), or <see langword="null"/>.</summary>
    internal Stores.UploadInfo? Upload { get; set; }

    /// <summary>Returns a header's value, or <see langword="null"/>.</summary>
    /// <param name="name">The header name, case-insensitive.</param>
    public string? GetHeader(string name)
    {
        foreach (var header in _headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }

        return null;
    }

    internal void SetHeader(string name, string value)
    {
        for (var i = 0; i < _headers.Count; i++)
        {
            if (string.Equals(_headers[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                _headers[i] = new(name, value);
                return;
            }
        }

        _headers.Add(new(name, value));
    }

    internal void RemoveHeader(string name) =>
        _headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));
}
