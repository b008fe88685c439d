using System.Net.Sockets;
using System.Text;

namespace Tus.Faults.Tests.Fuzzing;

/// <summary>One HTTP/1.1 request written byte for byte (duplicate headers, any value), and the status and body of the answer.</summary>
internal static class RawHttp
{
    public static async Task<(int Status, string Response)> SendAsync(int port, string method, string target, IReadOnlyList<KeyValuePair<string, string>> headers, byte[]? body = null)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (body is not null)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("\r\n");
        using var socket = await TusWire.ConnectAsync(port, CancellationToken.None);
        // Header values are sent as UTF-8 bytes, so non-ASCII text reaches Kestrel as it would from a careless client.
        var bytes = Encoding.UTF8.GetBytes(head.ToString());
        await socket.SendAsync(body is null ? bytes : [.. bytes, .. body], SocketFlags.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException) when (received.Length > 0)
        {
            // Kestrel may reset after answering a request whose body it did not read.
        }

        var text = Encoding.UTF8.GetString(received.ToArray());
        var status = text.Length >= 12 && text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(text.AsSpan(9, 3), out var code) ? code : -1;
        return (status, text);
    }
}
