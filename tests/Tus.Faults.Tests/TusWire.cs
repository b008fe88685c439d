using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tus.Faults.Tests;

/// <summary>tus requests over HttpClient and over raw sockets, for clients that misbehave on purpose.</summary>
internal static class TusWire
{
    public static async Task<Uri> CreateAsync(HttpClient client, Uri endpoint, long length, CancellationToken cancellationToken)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, endpoint);
        post.Headers.Add("Tus-Resumable", "1.0.0");
        post.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        using var response = await client.SendAsync(post, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"POST answered {(int)response.StatusCode}");
        }

        return new Uri(endpoint, response.Headers.Location!);
    }

    /// <summary>The upload's offset, or -1 when the server does not answer 200.</summary>
    public static async Task<long> OffsetAsync(HttpClient client, Uri upload, CancellationToken cancellationToken)
    {
        using var head = new HttpRequestMessage(HttpMethod.Head, upload);
        head.Headers.Add("Tus-Resumable", "1.0.0");
        using var response = await client.SendAsync(head, cancellationToken);
        return response.StatusCode == HttpStatusCode.OK
            ? long.Parse(response.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture)
            : -1;
    }

    /// <summary>Polls HEAD until the offset reaches <paramref name="expected"/> or stops moving; returns the last offset.</summary>
    public static async Task<long> SettledOffsetAsync(HttpClient client, Uri upload, long expected, TimeSpan patience, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        long offset;
        while (true)
        {
            offset = await OffsetAsync(client, upload, cancellationToken);
            if (offset == expected || DateTime.UtcNow > deadline)
            {
                return offset;
            }

            await Task.Delay(25, cancellationToken);
        }
    }

    public static async Task<int> PatchAsync(HttpClient client, Uri upload, long offset, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        using var patch = new HttpRequestMessage(HttpMethod.Patch, upload) { Content = new ReadOnlyMemoryContent(body) };
        patch.Headers.Add("Tus-Resumable", "1.0.0");
        patch.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        patch.Content.Headers.ContentType = new("application/offset+octet-stream");
        using var response = await client.SendAsync(patch, cancellationToken);
        return (int)response.StatusCode;
    }

    public static async Task<Socket> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        return socket;
    }

    /// <summary>The head of a PATCH; with <paramref name="chunked"/> the body follows in chunked framing.</summary>
    public static byte[] PatchHead(Uri upload, long offset, long contentLength, bool chunked)
    {
        var framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + contentLength.ToString(CultureInfo.InvariantCulture);
        return Encoding.ASCII.GetBytes(
            $"PATCH {upload.PathAndQuery} HTTP/1.1\r\nHost: {upload.Authority}\r\nTus-Resumable: 1.0.0\r\n" +
            $"Upload-Offset: {offset.ToString(CultureInfo.InvariantCulture)}\r\nContent-Type: application/offset+octet-stream\r\n{framing}\r\n\r\n");
    }

    /// <summary>
    /// The first <paramref name="cut"/> body bytes of <paramref name="body"/> on the wire: as they are for a content-length
    /// body; for a chunked one, in chunks of <paramref name="chunkSize"/> with the last chunk only partly sent.
    /// </summary>
    public static byte[] BodyPrefix(ReadOnlySpan<byte> body, int cut, bool chunked, int chunkSize)
    {
        if (!chunked)
        {
            return body[..cut].ToArray();
        }

        using var wire = new MemoryStream();
        var position = 0;
        while (position < cut)
        {
            var size = Math.Min(chunkSize, body.Length - position);
            wire.Write(Encoding.ASCII.GetBytes(size.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
            var sent = Math.Min(size, cut - position);
            wire.Write(body.Slice(position, sent));
            position += sent;
            if (sent == size)
            {
                wire.Write("\r\n"u8);
            }
        }

        return wire.ToArray();
    }
}
