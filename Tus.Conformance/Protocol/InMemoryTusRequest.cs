using System.IO.Pipelines;
using System.Net;
using Tus.Http;

namespace Tus.Conformance.Internal;

/// <summary>
/// An <see cref="HttpRequestMessage"/> as the engine sees it, with no network in between: headers as sent (request and
/// content headers), the body through a <see cref="Pipe"/> that <see cref="EngineHttpHandler"/> fills, and an abort
/// signal it fires when the client breaks the body off.
/// </summary>
internal sealed class InMemoryTusRequest : TusRequest
{
    private readonly List<KeyValuePair<string, string>> _headers = [];

    public InMemoryTusRequest(HttpRequestMessage message, string resourcePath, string endpointPath, PipeReader body, CancellationToken aborted)
    {
        var uri = message.RequestUri!;
        Method = message.Method.Method;
        ResourcePath = resourcePath;
        Scheme = uri.Scheme;
        Host = uri.IsDefaultPort ? uri.Host : uri.Authority;
        EndpointPath = endpointPath;
        Body = body;
        Aborted = aborted;
        foreach (var header in message.Headers.NonValidated)
        {
            foreach (var value in header.Value)
            {
                _headers.Add(new(header.Key, value));
            }
        }

        if (message.Content is { } content)
        {
            // Reading ContentLength asks the content to compute it, as a real handler does before sending.
            ContentLength = content.Headers.ContentLength;
            foreach (var header in content.Headers.NonValidated)
            {
                foreach (var value in header.Value)
                {
                    _headers.Add(new(header.Key, value));
                }
            }
        }
        else if (message.Method != HttpMethod.Get && message.Method != HttpMethod.Head && message.Method != HttpMethod.Options && message.Method != HttpMethod.Delete)
        {
            // HttpClient announces an empty body for the methods that usually carry one.
            ContentLength = 0;
            _headers.Add(new("Content-Length", "0"));
        }
    }

    public override string Method { get; }

    public override string ResourcePath { get; }

    public override string Scheme { get; }

    public override string Host { get; }

    public override string EndpointPath { get; }

    public override long? ContentLength { get; }

    public override PipeReader Body { get; }

    public override CancellationToken Aborted { get; }

    public override IPEndPoint? RemoteEndPoint => null;

    public override string? GetHeader(string name)
    {
        string? joined = null;
        foreach (var (key, value) in _headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                joined = joined is null ? value : joined + ", " + value;
            }
        }

        return joined;
    }

    public override IEnumerable<KeyValuePair<string, string>> EnumerateHeaders() => _headers;

    // HttpClient sends no request trailers.
    public override string? GetTrailer(string name) => null;
}
