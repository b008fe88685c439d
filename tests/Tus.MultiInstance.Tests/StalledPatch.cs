using System.Diagnostics;
using System.Globalization;

namespace Tus.MultiInstance.Tests;

/// <summary>A PATCH over a raw socket that sends part of its body and then stalls, holding the upload's lock.</summary>
internal static class StalledPatch
{
    /// <summary>
    /// A PATCH that sends the first bytes of its body and then nothing, holding the upload's lock, over a raw socket:
    /// HttpClient would not read an answer before it finished sending the body, while a server that gives up answers
    /// at once (as browsers and tus-js-client see it).
    /// </summary>
    public static async Task<(int Status, string? Code, long? Offset, TimeSpan At)> SendAsync(Uri upload, byte[] data, int sentBeforeStall, Stopwatch clock, CancellationToken stall)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(upload.Host, upload.Port, stall);
        var stream = tcp.GetStream();
        var head = $"PATCH {upload.PathAndQuery} HTTP/1.1\r\nHost: {upload.Authority}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n" +
            $"Content-Type: application/offset+octet-stream\r\nContent-Length: {data.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), stall);
        await stream.WriteAsync(data.AsMemory(0, sentBeforeStall), stall);
        await stream.FlushAsync(stall);

        // Read the whole answer (the server closes the connection after it: the body was not read to its end).
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(buffer, stall)) > 0)
        {
            received.Write(buffer, 0, read);
            var text = System.Text.Encoding.ASCII.GetString(received.ToArray());
            var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split >= 0 && ContentLength(text[..split]) is { } length && text.Length - split - 4 >= length)
            {
                break;
            }
        }

        var at = clock.Elapsed;
        var answer = System.Text.Encoding.ASCII.GetString(received.ToArray());
        var end = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var lines = answer[..Math.Max(end, 0)].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var offsetLine = lines.FirstOrDefault(l => l.StartsWith("Upload-Offset:", StringComparison.OrdinalIgnoreCase));
        long? offset = offsetLine is null ? null : long.Parse(offsetLine.Split(':')[1].Trim(), CultureInfo.InvariantCulture);
        var code = answer[(end + 4)..].Split(':')[0].Trim();
        return (status, code, offset, at);
    }

    private static long? ContentLength(string head)
    {
        var line = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        return line is null ? null : long.Parse(line.Split(':')[1].Trim(), CultureInfo.InvariantCulture);
    }
}
