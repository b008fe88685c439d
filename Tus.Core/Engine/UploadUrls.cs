using Tus.Http;
using Tus.Protocol;

namespace Tus.Engine;

/// <summary>Builds the URLs of uploads, and reads upload ids back out of URLs.</summary>
internal static class UploadUrls
{
    /// <summary>The absolute URL of an upload, honouring forwarding headers when the server is behind a proxy.</summary>
    public static string Absolute(EngineContext context, TusRequest request, string uploadId)
    {
        var scheme = request.Scheme;
        var host = request.Host;
        var prefix = string.Empty;
        if (context.Options.BehindProxy)
        {
            ReadForwarded(request, ref scheme, ref host);
            if (FirstValue(request.GetHeader("X-Forwarded-Proto")) is { } proto && IsScheme(proto))
            {
                scheme = proto.ToLowerInvariant();
            }

            if (FirstValue(request.GetHeader("X-Forwarded-Host")) is { } forwardedHost && IsHost(forwardedHost))
            {
                host = forwardedHost;
            }

            if (FirstValue(request.GetHeader("X-Forwarded-Prefix")) is { } forwardedPrefix && IsPathPrefix(forwardedPrefix))
            {
                prefix = forwardedPrefix.TrimEnd('/');
            }
        }

        return scheme + "://" + host + prefix + request.EndpointPath + uploadId;
    }

    /// <summary>The path of an upload relative to the host, as used in Upload-Concat responses.</summary>
    public static string Relative(TusRequest request, string uploadId) => request.EndpointPath + uploadId;

    /// <summary>Reads the upload id at the end of an absolute or relative upload URL.</summary>
    public static bool TryReadId(string url, out string uploadId)
    {
        uploadId = string.Empty;
        var path = url;
        if (Uri.TryCreate(url, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
        {
            path = absolute.AbsolutePath;
        }
        else if (!url.StartsWith('/'))
        {
            return false;
        }

        var slash = path.LastIndexOf('/');
        var candidate = path[(slash + 1)..];
        if (!UploadId.IsValid(candidate))
        {
            return false;
        }

        uploadId = candidate;
        return true;
    }

    private static void ReadForwarded(TusRequest request, ref string scheme, ref string host)
    {
        // RFC 7239: the first element describes the hop closest to the client.
        var forwarded = FirstValue(request.GetHeader("Forwarded"));
        if (forwarded is null)
        {
            return;
        }

        foreach (var pair in forwarded.Split(';'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var name = pair[..equals].Trim();
            var value = pair[(equals + 1)..].Trim().Trim('"');
            if (name.Equals("proto", StringComparison.OrdinalIgnoreCase) && IsScheme(value))
            {
                scheme = value.ToLowerInvariant();
            }
            else if (name.Equals("host", StringComparison.OrdinalIgnoreCase) && IsHost(value))
            {
                host = value;
            }
        }
    }

    private static string? FirstValue(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        var comma = header.IndexOf(',', StringComparison.Ordinal);
        var first = (comma < 0 ? header : header[..comma]).Trim();
        return first.Length == 0 ? null : first;
    }

    private static bool IsScheme(string value) =>
        value.Equals("http", StringComparison.OrdinalIgnoreCase) || value.Equals("https", StringComparison.OrdinalIgnoreCase);

    /// <summary>A host name or address with an optional port, and nothing that could change the URL's meaning.</summary>
    private static bool IsHost(string value)
    {
        if (value.Length is 0 or > 255)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPathPrefix(string value)
    {
        if (!value.StartsWith('/') || value.Length > 512 || value.Contains("//", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_' or '.' or '~'))
            {
                return false;
            }
        }

        return !value.Split('/').Any(segment => segment is "." or "..");
    }
}
