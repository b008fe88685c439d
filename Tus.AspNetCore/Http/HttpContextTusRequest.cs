using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Tus.AspNetCore.Transport;
using Tus.Http;

namespace Tus.AspNetCore.Http;

/// <summary>The engine's view of an ASP.NET Core request.</summary>
internal sealed class HttpContextTusRequest(HttpContext context, string resourcePath, string endpointPath) : TusRequest
{
    private readonly HttpRequest _request = context.Request;

    public override string Method => _request.Method;

    public override string ResourcePath { get; } = resourcePath;

    public override string Scheme => _request.Scheme;

    public override string Host => _request.Host.Value ?? string.Empty;

    public override string EndpointPath { get; } = endpointPath;

    public override long? ContentLength => _request.ContentLength;

    public override PipeReader Body => _request.BodyReader;

    public override CancellationToken Aborted => context.RequestAborted;

    // Kestrel's request features fall back to the connection's, where KeepReceivedBytesOnDisconnect() puts this one.
    public override CancellationToken ClientFinishedSending =>
        context.Features.Get<ClientFinishedSendingFeature>()?.Finished ?? CancellationToken.None;

    public override ClaimsPrincipal? User => context.User;

    public override IServiceProvider? Services => context.RequestServices;

    public override string? GetHeader(string name) => Join(_request.Headers[name]);

    public override IEnumerable<KeyValuePair<string, string>> EnumerateHeaders()
    {
        foreach (var header in _request.Headers)
        {
            foreach (var value in header.Value)
            {
                yield return new(header.Key, value ?? string.Empty);
            }
        }
    }

    public override IPEndPoint? RemoteEndPoint =>
        context.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, context.Connection.RemotePort) : null;

    public override ValueTask<bool> SendInterimResponseAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        // Present only on connections of an endpoint set up with UseTusInterimResponses().
        var channel = context.Features.Get<Interim.InterimResponseChannel>();
        return channel is null ? ValueTask.FromResult(false) : channel.TryWriteAsync(context, statusCode, headers, cancellationToken);
    }

    public override string? GetTrailer(string name)
    {
        // Trailers exist only on HTTP/1.1 chunked and HTTP/2+ bodies, and only once the body has been read to its end.
        if (!_request.SupportsTrailers() || !_request.CheckTrailersAvailable())
        {
            return null;
        }

        return Join(_request.GetTrailer(name));
    }

    private static string? Join(StringValues values) => values.Count switch
    {
        0 => null,
        1 => values[0],
        _ => string.Join(", ", (IEnumerable<string?>)values),
    };
}
