namespace Tus.Conformance;

/// <summary>
/// How <see cref="ProtocolConformanceTests{TFixture}"/> reaches the engine: the client its scenarios send requests with,
/// and the tus endpoint's URL. By default the client hands each request to the engine in memory; override
/// <see cref="ProtocolConformanceTests{TFixture}.CreateTransportAsync"/> to put a real server in between.
/// </summary>
public sealed class ProtocolTransport : IAsyncDisposable
{
    private readonly Func<ValueTask>? _dispose;

    /// <summary>Creates a transport that owns <paramref name="client"/> and nothing else.</summary>
    /// <param name="client">The client; disposed with the transport.</param>
    /// <param name="endpoint">The tus endpoint, ending with '/', e.g. <c>http://127.0.0.1:5000/files/</c>.</param>
    public ProtocolTransport(HttpClient client, Uri endpoint)
        : this(client, endpoint, null)
    {
    }

    /// <summary>Creates a transport that owns <paramref name="client"/> and something more (a server).</summary>
    /// <param name="client">The client; disposed with the transport.</param>
    /// <param name="endpoint">The tus endpoint, ending with '/', e.g. <c>http://127.0.0.1:5000/files/</c>.</param>
    /// <param name="dispose">Stops what else the transport runs, after the client is disposed; <see langword="null"/> for nothing.</param>
    public ProtocolTransport(HttpClient client, Uri endpoint, Func<ValueTask>? dispose)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!endpoint.IsAbsoluteUri || !endpoint.AbsolutePath.EndsWith('/'))
        {
            throw new ArgumentException($"The endpoint must be an absolute URL ending with '/', not '{endpoint}'.", nameof(endpoint));
        }

        Client = client;
        Endpoint = endpoint;
        _dispose = dispose;
    }

    /// <summary>The client the scenarios send their requests with.</summary>
    public HttpClient Client { get; }

    /// <summary>The tus endpoint, ending with '/'.</summary>
    public Uri Endpoint { get; }

    /// <summary>Disposes the client, then stops what else the transport runs.</summary>
    /// <returns>A task that completes once everything is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_dispose is not null)
        {
            await _dispose().ConfigureAwait(false);
        }
    }
}
