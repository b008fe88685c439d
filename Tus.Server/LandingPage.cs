using System.Net;
using System.Text;

namespace Tus.Server;

/// <summary>The page served at <c>GET /</c>: what this is, where to upload, and how.</summary>
internal static class LandingPage
{
    public static string Render(HttpRequest request, string basePath, IReadOnlyList<string> extensions)
    {
        var endpoint = $"{request.Scheme}://{request.Host}{request.PathBase}{basePath}";
        var e = WebUtility.HtmlEncode(endpoint);
        var html = new StringBuilder();
        html.Append("""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>tus server</title>
            <style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
            pre{background:#f4f4f4;padding:1rem;overflow-x:auto}code{background:#f4f4f4}</style></head>
            <body>
            <h1>tus server</h1>
            <p>This is a <a href="https://tus.io/protocols/resumable-upload">tus</a> resumable-upload server (protocol 1.0.0), built with Tus for .NET.</p>

            """);
        html.Append("<p>Upload endpoint: <code>").Append(e).AppendLine("</code></p>");
        html.Append("<p>Extensions: <code>").Append(WebUtility.HtmlEncode(string.Join(", ", extensions))).AppendLine("</code></p>");
        html.AppendLine("<p>Any tus client works (tus-js-client, Uppy, tusd's clients...). By hand, with curl:</p>");
        html.Append("<pre>");
        html.Append(WebUtility.HtmlEncode(
            $"""
            # 1. create an upload of 11 bytes; the answer's Location header is its URL
            curl -i -X POST {endpoint} -H "Tus-Resumable: 1.0.0" -H "Upload-Length: 11"

            # 2. send bytes from offset 0 (send the rest later from the offset HEAD reports)
            curl -i -X PATCH {endpoint}ID -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" \
                 -H "Content-Type: application/offset+octet-stream" --data-binary "hello world"

            # 3. ask how far it got
            curl -I {endpoint}ID -H "Tus-Resumable: 1.0.0"
            """));
        html.AppendLine("</pre>");
        html.AppendLine("<p>Health check: <code>GET /health</code>.</p>");
        html.AppendLine("</body></html>");
        return html.ToString();
    }
}
