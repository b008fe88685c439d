using System.Net;

namespace Tus.Server.Hooks;

/// <summary>What the HTTP hooks are sent to and how hard they are tried.</summary>
internal sealed record HttpHookOptions(Uri Endpoint, IReadOnlyList<string> ForwardHeaders, int Retries, TimeSpan Backoff, TimeSpan Timeout, long SizeLimit);

/// <summary>
/// tusd's HTTP hooks: each event is POSTed as JSON to the endpoint; a 2xx answer's body (JSON, or nothing) is the hook's
/// response, any other status a failure. Network errors, timeouts and 5xx answers are retried with a doubling backoff;
/// an answer larger than the size limit is a failure. The request is made with a plain <see cref="HttpClient"/>, which
/// propagates the W3C trace context of <see cref="System.Diagnostics.Activity.Current"/> in a traceparent header.
/// </summary>
internal sealed class HttpHookTransport : IHookTransport, IDisposable
{
    private readonly HttpHookOptions _options;
    private readonly HttpClient _client;
    private readonly ILogger<HttpHookTransport> _logger;

    public HttpHookTransport(HttpHookOptions options, ILogger<HttpHookTransport> logger)
    {
        _options = options;
        _logger = logger;
        _client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        {
            // Each attempt has its own timeout, below.
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = Math.Max(1, options.SizeLimit),
        };
    }

    public string Description => $"HTTP hooks at {_options.Endpoint}";

    public async ValueTask<HookResponseDocument?> InvokeAsync(string hookType, HookRequestDocument request, CancellationToken cancellationToken)
    {
        var body = ExternalHookInvoker.Serialize(request);
        for (var attempt = 0; ; attempt++)
        {
            var (response, retryReason) = await TryOnceAsync(hookType, request, body, cancellationToken).ConfigureAwait(false);
            if (response is not null)
            {
                return response;
            }

            if (attempt >= _options.Retries)
            {
                throw new ExternalHookException($"The {hookType} hook at {_options.Endpoint} failed after {attempt + 1} attempts: {retryReason}");
            }

            var delay = _options.Backoff * Math.Pow(2, Math.Min(attempt, 10));
            HookLog.HttpHookRetrying(_logger, hookType, retryReason!, delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One attempt: the response, or why it is worth another try. Failures not worth one throw.</summary>
    private async Task<(HookResponseDocument? Response, string? RetryReason)> TryOnceAsync(string hookType, HookRequestDocument request, byte[] body, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _options.Endpoint) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        foreach (var name in _options.ForwardHeaders)
        {
            if (request.Event.HttpRequest.Header.TryGetValue(ExternalHookInvoker.CanonicalHeaderName(name), out var values))
            {
                message.Headers.TryAddWithoutValidation(name, values);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if ((int)response.StatusCode >= 500)
            {
                return (null, $"status {(int)response.StatusCode}");
            }

            if (response.StatusCode is < HttpStatusCode.OK or >= HttpStatusCode.Ambiguous)
            {
                throw new ExternalHookException($"The {hookType} hook at {_options.Endpoint} answered status {(int)response.StatusCode}.");
            }

            var output = await ReadLimitedAsync(response.Content, hookType, timeout.Token).ConfigureAwait(false);
            return (ExternalHookInvoker.ParseResponse(output, hookType), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {_options.Timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException exception)
        {
            return (null, exception.Message);
        }
    }

    private async Task<byte[]> ReadLimitedAsync(HttpContent content, string hookType, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > _options.SizeLimit)
        {
            throw new ExternalHookException($"The {hookType} hook's answer is larger than {_options.SizeLimit} bytes.");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[8192];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > _options.SizeLimit)
                {
                    throw new ExternalHookException($"The {hookType} hook's answer is larger than {_options.SizeLimit} bytes.");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>The external hooks' log messages.</summary>
internal static partial class HookLog
{
    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "{HookType} hook (upload {UploadId}) stderr: {Line}")]
    public static partial void HookStderr(ILogger logger, string hookType, string uploadId, string line);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "{HookType} hook: {Reason}; retrying in {DelayMs} ms")]
    public static partial void HttpHookRetrying(ILogger logger, string hookType, string reason, double delayMs);

    [LoggerMessage(EventId = 42, Level = LogLevel.Warning, Message = "A pre-create hook's ChangeFileInfo.Storage was ignored: the stores choose where uploads are kept")]
    public static partial void StorageChangeIgnored(ILogger logger);

    [LoggerMessage(EventId = 43, Level = LogLevel.Information, Message = "Hooks: {Transport}; events: {Events}")]
    public static partial void HooksEnabled(ILogger logger, string transport, string events);
}
