using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Tus.Draft.Tests;

/// <summary>One response as it came off the wire: interim (1xx) or final.</summary>
public sealed record RawResponse(int Status, string Reason, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string? Header(string name) =>
        Headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// An HTTP/1.1 client on a bare socket, so that every interim response the server writes is seen, in order, exactly as
/// sent (HttpClient drops 1xx responses other than 100 before the caller could see them).
/// </summary>
public sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream? _stream;
    private int _port;

    public static async Task<RawHttp> ConnectAsync(Uri server, CancellationToken cancellationToken)
    {
        var raw = new RawHttp();
        await raw._client.ConnectAsync("127.0.0.1", server.Port, cancellationToken);
        raw._stream = raw._client.GetStream();
        raw._port = server.Port;
        return raw;
    }

    /// <summary>Sends a request head (with Host and Connection: close added) and optionally the start of a body.</summary>
    public async Task SendAsync(string method, string path, IEnumerable<(string Name, string Value)> headers, byte[]? body, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{_port}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        head.Append("\r\n");
        await _stream!.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), cancellationToken);
        if (body is { Length: > 0 })
        {
            await _stream.WriteAsync(body, cancellationToken);
        }

        await _stream.FlushAsync(cancellationToken);
    }

    public Task WriteAsync(byte[] bytes, CancellationToken cancellationToken) => _stream!.WriteAsync(bytes, cancellationToken).AsTask();

    /// <summary>Reads one response (interim or final); the body of a final one by its Content-Length (none for HEAD, 1xx, 204).</summary>
    public async Task<RawResponse> ReadResponseAsync(bool isHead, CancellationToken cancellationToken)
    {
        var statusLine = await ReadLineAsync(cancellationToken) ?? throw new IOException("connection closed before a response");
        var parts = statusLine.Split(' ', 3);
        var status = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var headers = new List<KeyValuePair<string, string>>();
        string? line;
        while (!string.IsNullOrEmpty(line = await ReadLineAsync(cancellationToken)))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        var body = Array.Empty<byte>();
        var length = headers.Where(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(h => long.Parse(h.Value, CultureInfo.InvariantCulture)).FirstOrDefault();
        if (!isHead && status >= 200 && status != 204 && length > 0)
        {
            body = new byte[length];
            await _stream!.ReadExactlyAsync(body, cancellationToken);
        }

        return new RawResponse(status, parts.Length > 2 ? parts[2] : string.Empty, headers, body);
    }

    /// <summary>Reads every response up to and including the final one.</summary>
    public async Task<List<RawResponse>> ReadAllAsync(bool isHead, CancellationToken cancellationToken)
    {
        var responses = new List<RawResponse>();
        do
        {
            responses.Add(await ReadResponseAsync(isHead, cancellationToken));
        }
        while (responses[^1].Status < 200);
        return responses;
    }

    /// <summary>Cuts the connection off without a clean end of the request.</summary>
    public void Abort()
    {
        _client.Client.LingerState = new LingerOption(true, 0);
        _client.Close();
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }

        _client.Dispose();
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            var read = await _stream!.ReadAsync(one, cancellationToken);
            if (read == 0)
            {
                return bytes.Count == 0 ? null : Encoding.ASCII.GetString(bytes.ToArray());
            }

            if (one[0] == '\n')
            {
                if (bytes.Count > 0 && bytes[^1] == '\r')
                {
                    bytes.RemoveAt(bytes.Count - 1);
                }

                return Encoding.ASCII.GetString(bytes.ToArray());
            }

            bytes.Add(one[0]);
        }
    }
}
