using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Tus.AspNetCore.Interim;

/// <summary>
/// Writes HTTP/1.1 interim (1xx) responses straight onto a Kestrel connection's transport. ASP.NET Core has no API for
/// an application to send a 1xx (dotnet/aspnetcore#27851 is open; no type in Microsoft.AspNetCore.App 10.0 sends one),
/// so the connection middleware (<c>UseTusInterimResponses</c>) puts this on the connection and the
/// request writes through it. HTTP/1.1 only: on HTTP/2 and HTTP/3 the bytes would have to be frames Kestrel owns.
/// </summary>
/// <remarks>
/// It writes only while the final response has not started and before the request body is read (the engine sends its
/// 104 between creating the upload and reading the body). Until then Kestrel writes nothing on the connection for this
/// request, so the interim bytes cannot interleave with Kestrel's own.
/// </remarks>
internal sealed class InterimResponseChannel(ConnectionContext connection)
{
    public async ValueTask<bool> TryWriteAsync(HttpContext context, int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        if (statusCode is < 100 or > 199 || statusCode == 101 || context.Response.HasStarted
            || !HttpProtocol.IsHttp11(context.Request.Protocol) || Format(statusCode, headers) is not { } bytes)
        {
            return false;
        }

        // No lock: an HTTP/1.1 connection serves one request at a time, and this is that request's only writer for now.
        // The transport is read now, not when the connection opened: a later connection middleware (TLS) may replace it.
        var output = connection.Transport.Output;
        output.Write(bytes);
        var flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return !flushed.IsCanceled && !flushed.IsCompleted;
    }

    /// <summary>The interim response's bytes, or <see langword="null"/> when a header could not be written safely.</summary>
    internal static byte[]? Format(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var builder = new StringBuilder(128);
        builder.Append("HTTP/1.1 ").Append(statusCode.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(ReasonPhrase(statusCode)).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            if (!IsToken(name) || !IsFieldValue(value))
            {
                return null;
            }

            builder.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        builder.Append("\r\n");
        return Encoding.ASCII.GetBytes(builder.ToString());
    }

    private static string ReasonPhrase(int statusCode) => statusCode switch
    {
        100 => "Continue",
        102 => "Processing",
        103 => "Early Hints",
        104 => "Upload Resumption Supported",
        _ => "Informational",
    };

    private static bool IsToken(string name) =>
        name.Length > 0 && name.All(c => c is > ' ' and < '\x7f' and not (':' or '"' or '(' or ')' or ',' or '/' or ';' or '<' or '=' or '>' or '?' or '@' or '[' or '\\' or ']' or '{' or '}'));

    // Printable ASCII and tabs only: no CR or LF can end the header early, no byte outside what every client reads.
    private static bool IsFieldValue(string value) => value.All(c => c is '\t' or (>= ' ' and < '\x7f'));

    private static class HttpProtocol
    {
        public static bool IsHttp11(string protocol) => string.Equals(protocol, "HTTP/1.1", StringComparison.Ordinal);
    }
}
