using System.IO.Pipelines;
using System.Net;
using Tus.Http;

namespace Tus.Conformance.Internal;

/// <summary>
/// An <see cref="HttpMessageHandler"/> that hands each request straight to a <see cref="TusEngine"/>, with no server and
/// no socket: the request becomes an <see cref="InMemoryTusRequest"/>, whose body a background task streams from the
/// request content through a pipe, and the engine's <see cref="TusResponse"/> becomes the
/// <see cref="HttpResponseMessage"/>. A request content that fails while it is being sent (a client breaking a body off)
/// reaches the engine as Kestrel reports a reset connection: the body read fails with an <see cref="IOException"/> and
/// the request's abort signal fires; the caller's <c>SendAsync</c> then fails with an <see cref="HttpRequestException"/>.
/// </summary>
internal sealed class EngineHttpHandler(TusEngine engine, string endpointPath) : HttpMessageHandler
{
    // Bounds what the client gets ahead of the engine, as a socket's buffers do.
    private static readonly PipeOptions BodyPipe = new(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.RequestUri?.AbsolutePath ?? string.Empty;
        if (!(path + "/").StartsWith(endpointPath, StringComparison.Ordinal))
        {
            return new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request };
        }

        var resource = path.Length > endpointPath.Length ? Uri.UnescapeDataString(path[endpointPath.Length..]) : string.Empty;
        var pipe = new Pipe(BodyPipe);
        using var aborted = new CancellationTokenSource();
        using var stopSending = new CancellationTokenSource();
        using var clientGone = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), aborted);
        var tusRequest = new InMemoryTusRequest(request, resource, endpointPath, pipe.Reader, aborted.Token);
        var sending = Task.Run(() => SendBodyAsync(request.Content, pipe.Writer, aborted, stopSending.Token), CancellationToken.None);

        TusResponse response;
        try
        {
            response = await engine.HandleAsync(tusRequest).ConfigureAwait(false);
        }
        finally
        {
            // The engine has answered: what it left unread is dropped, as a server drains or resets the connection.
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await stopSending.CancelAsync().ConfigureAwait(false);
        }

        var failure = await sending.ConfigureAwait(false);
        if (failure is not null || cancellationToken.IsCancellationRequested)
        {
            if (response.BodyStream is { } unread)
            {
                await unread.DisposeAsync().ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new HttpRequestException("Error while copying content to a stream.", failure);
        }

        return ToMessage(request, response);
    }

    /// <summary>Streams the request content into the engine's body; returns the exception the content failed with
    /// before the engine answered, if it did.</summary>
    private static async Task<Exception?> SendBodyAsync(HttpContent? content, PipeWriter writer, CancellationTokenSource aborted, CancellationToken stop)
    {
        if (content is null)
        {
            await writer.CompleteAsync().ConfigureAwait(false);
            return null;
        }

        try
        {
            var stream = writer.AsStream(leaveOpen: true);
            await using (stream.ConfigureAwait(false))
            {
                await content.CopyToAsync(stream, stop).ConfigureAwait(false);
            }

            await writer.CompleteAsync().ConfigureAwait(false);
            return null;
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // The engine answered without reading the whole body: the rest is never sent.
            await writer.CompleteAsync().ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // Whatever the content threw, the server sees the same thing: the connection was reset.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            await writer.CompleteAsync(new IOException("The client reset the connection while sending the request body.", exception)).ConfigureAwait(false);
            await aborted.CancelAsync().ConfigureAwait(false);
            return exception;
        }
    }

    private static HttpResponseMessage ToMessage(HttpRequestMessage request, TusResponse response)
    {
        var message = new HttpResponseMessage((HttpStatusCode)response.StatusCode) { RequestMessage = request };
        var noBody = response.StatusCode is 204 or 304 or < 200;
        HttpContent content;
        if (noBody || request.Method == HttpMethod.Head || (response.BodyStream is null && response.Body.IsEmpty))
        {
            response.BodyStream?.Dispose();
            content = new ByteArrayContent([]);
        }
        else
        {
            content = response.BodyStream is { } stream ? new StreamContent(stream) : new ByteArrayContent(response.Body.ToArray());
        }

        foreach (var (name, value) in response.Headers)
        {
            // The length comes from TusResponse.ContentLength alone, as Tus.AspNetCore writes it.
            if (!string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase) && !message.Headers.TryAddWithoutValidation(name, value))
            {
                content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        content.Headers.ContentLength = noBody ? null : response.ContentLength ?? (request.Method == HttpMethod.Head ? null : content.Headers.ContentLength);
        message.Content = content;
        return message;
    }
}
