using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Http;

/// <summary>
/// One HTTP request as the engine sees it, independent of any web framework. A hosting adapter (Tus.AspNetCore, or your
/// own) implements it over its framework's request.
/// </summary>
public abstract class TusRequest
{
    /// <summary>The HTTP method as sent (the engine applies <c>X-HTTP-Method-Override</c> itself).</summary>
    public abstract string Method { get; }

    /// <summary>
    /// The path below the tus endpoint, without a leading slash: empty for the endpoint itself (POST, OPTIONS), the upload
    /// id otherwise. It is validated by the engine, so the adapter passes it on as it came.
    /// </summary>
    public abstract string ResourcePath { get; }

    /// <summary>The request URL's scheme, <c>http</c> or <c>https</c>.</summary>
    public abstract string Scheme { get; }

    /// <summary>The request's Host header value (host and optional port).</summary>
    public abstract string Host { get; }

    /// <summary>The absolute path of the tus endpoint, ending with '/', e.g. <c>/files/</c>.</summary>
    public abstract string EndpointPath { get; }

    /// <summary>Returns a request header's value, the values of a repeated header joined by commas, or <see langword="null"/>.</summary>
    /// <param name="name">The header name, case-insensitive.</param>
    public abstract string? GetHeader(string name);

    /// <summary>
    /// Every request header, each value of a repeated header as a pair of its own (in the order received), names as
    /// sent. Hooks use it to see (and forward) the whole request. The order of different headers is the host's: ASP.NET
    /// Core, for one, does not keep the order in which they arrived.
    /// </summary>
    /// <returns>The headers; enumerate once.</returns>
    public abstract IEnumerable<KeyValuePair<string, string>> EnumerateHeaders();

    /// <summary>The client's address and port as the transport sees it, or <see langword="null"/> when there is none
    /// (an in-memory request). Not adjusted for proxies.</summary>
    public abstract IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The declared body length, or <see langword="null"/> for a chunked body.</summary>
    public abstract long? ContentLength { get; }

    /// <summary>The request body.</summary>
    public abstract PipeReader Body { get; }

    /// <summary>Returns a trailer's value once the body has been read to its end, or <see langword="null"/>.</summary>
    /// <param name="name">The trailer name, case-insensitive.</param>
    public abstract string? GetTrailer(string name);

    /// <summary>Fires when the client disconnects.</summary>
    public abstract CancellationToken Aborted { get; }

    /// <summary>
    /// Fires when the client has finished sending on its connection (it closed or half-closed it): whatever of the body
    /// is still unread has already reached the server, so reading it never waits for the network. The engine then reads
    /// it all, even when another request asks for the upload meanwhile. Never fires by default.
    /// </summary>
    public virtual CancellationToken ClientFinishedSending => CancellationToken.None;

    /// <summary>The authenticated user, for hooks; <see langword="null"/> when the host has none.</summary>
    public virtual ClaimsPrincipal? User => null;

    /// <summary>The request's services, for hooks; <see langword="null"/> when the host has none.</summary>
    public virtual IServiceProvider? Services => null;

    /// <summary>
    /// Sends an interim (1xx) response ahead of the final one, such as the IETF resumable-upload draft's
    /// <c>104 Upload Resumption Supported</c>. The engine calls it before it reads the request body and before the final
    /// response has started. The default sends nothing and returns <see langword="false"/>: hosts that cannot send
    /// interim responses need not override it.
    /// </summary>
    /// <param name="statusCode">The status code, 100 to 199.</param>
    /// <param name="headers">The interim response's headers.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when the interim response was written to the client.</returns>
    public virtual ValueTask<bool> SendInterimResponseAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken) =>
        ValueTask.FromResult(false);

    // The hooks below let a protocol dialect (the IETF draft, Tus.Core/Draft) ride on the shared upload operations;
    // a plain request is a tus 1.0 request and keeps the defaults.

    /// <summary>Set when the request completes the upload at the end of its body, whatever the length then is.</summary>
    internal virtual bool CompletesAtBodyEnd => false;

    /// <summary>The most bytes one request may append, or <see langword="null"/> for no limit beyond the upload's own.</summary>
    internal virtual long? AppendLimit => null;

    /// <summary>Refuses an append (or the first bytes of a creation) to an upload this request's dialect must not change.</summary>
    internal virtual TusError? RefuseAppend(UploadInfo upload) => Draft.DraftDialect.RefuseTusAppend(upload);

    /// <summary>The metadata a new upload is stored with: marked with the dialect that created it (after any hook ran).</summary>
    internal virtual UploadMetadata StampMetadata(UploadMetadata metadata) => Draft.DraftDialect.UnmarkTusMetadata(metadata);

    /// <summary>Called once the upload exists and before its first bytes are read: the moment for an interim response.</summary>
    internal virtual ValueTask UploadCreatedAsync(UploadInfo upload, string location) => ValueTask.CompletedTask;

    /// <summary>What hooks saw of and asked for this request; made when the first hook runs.</summary>
    internal Hooks.HookRequestState? HookState { get; set; }
}
