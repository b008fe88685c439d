using System.Globalization;
using System.Text;
using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Engine;

/// <summary>GET: downloads a finished upload, with single byte ranges and headers that are safe to show in a browser.</summary>
internal static class GetHandler
{
    /// <summary>Types a browser may render in place; anything that can run script (HTML, SVG, XML, PDF) is an attachment.</summary>
    private static readonly HashSet<string> InlineTypes = new(StringComparer.Ordinal)
    {
        "text/plain", "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
        "audio/mpeg", "audio/ogg", "audio/wav", "audio/webm", "audio/flac", "video/mp4", "video/webm", "video/ogg",
    };

    public static async ValueTask<TusResponse> HandleAsync(EngineContext context, TusRequest request, TusResponse response, string uploadId)
    {
        // Finished uploads never change, so a download reads without the lock: taking it would interrupt an upload in
        // progress. Only a final upload still waiting to be assembled needs it.
        var (upload, error) = await UploadAccess.LoadAsync(context, uploadId, request.Aborted).ConfigureAwait(false);
        if (upload is null)
        {
            return response.Fail(error!);
        }

        if (upload.Concatenation is { IsFinal: true } && !upload.IsComplete)
        {
            var (held, lockError) = await UploadAccess.LockAsync(context, request, uploadId).ConfigureAwait(false);
            if (held is null)
            {
                return response.Fail(lockError!);
            }

            await using (held.ConfigureAwait(false))
            {
                (upload, error) = await UploadAccess.LoadAsync(context, uploadId, request.Aborted, held).ConfigureAwait(false);
                if (upload is null)
                {
                    return response.Fail(error!);
                }

                (upload, error) = await Concatenation.TryCompleteAsync(context, request, upload, held).ConfigureAwait(false);
                if (error is not null)
                {
                    return response.Fail(error);
                }
            }
        }

        if (!upload.IsComplete)
        {
            return response.Fail(TusError.UploadNotFinished);
        }

        var length = upload.Offset;
        response.SetHeader("Accept-Ranges", "bytes");
        response.SetHeader("Cache-Control", "no-store");
        var (contentType, disposition) = ContentHeaders(upload.Metadata);
        response.SetHeader("Content-Type", contentType);
        response.SetHeader("Content-Disposition", disposition);
        response.SetHeader("Content-Security-Policy", "default-src 'none'; sandbox");

        long start = 0, count = length;
        var status = 200;
        if (request.GetHeader("Range") is { } range)
        {
            switch (TryParseRange(range, length, out start, out count))
            {
                case RangeResult.Satisfiable:
                    status = 206;
                    response.SetHeader("Content-Range", $"bytes {start}-{start + count - 1}/{length}");
                    break;
                case RangeResult.NotSatisfiable:
                    response.SetHeader("Content-Range", $"bytes */{length}");
                    return response.Fail(TusError.RangeNotSatisfiable);
                default:
                    (start, count) = (0, length);
                    break;
            }
        }

        // Opening is bounded like any store call; the copy to the client then runs on the client's own clock.
        using (var call = context.StoreCall(request.Aborted))
        {
            response.BodyStream = await call.Await(context.Store.OpenReadAsync(upload, start, count, call.Token)).ConfigureAwait(false);
        }
        response.ContentLength = count;
        return response.Succeed(status);
    }

    internal enum RangeResult
    {
        Ignored,
        Satisfiable,
        NotSatisfiable,
    }

    /// <summary>Reads a single "bytes=" range; several ranges or an unknown unit are ignored, as RFC 9110 allows.</summary>
    internal static RangeResult TryParseRange(string header, long length, out long start, out long count)
    {
        start = 0;
        count = length;
        var value = header.Trim();
        if (!value.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || value.Contains(',', StringComparison.Ordinal))
        {
            return RangeResult.Ignored;
        }

        var spec = value["bytes=".Length..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return RangeResult.Ignored;
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            // A suffix range: the last N bytes.
            if (!HeaderValues.TryParseLength(last, out var suffix))
            {
                return RangeResult.Ignored;
            }

            if (suffix == 0 || length == 0)
            {
                return RangeResult.NotSatisfiable;
            }

            count = Math.Min(suffix, length);
            start = length - count;
            return RangeResult.Satisfiable;
        }

        if (!HeaderValues.TryParseLength(first, out var from))
        {
            return RangeResult.Ignored;
        }

        long to = length - 1;
        if (last.Length > 0)
        {
            if (!HeaderValues.TryParseLength(last, out to) || to < from)
            {
                return RangeResult.Ignored;
            }
        }

        if (from >= length)
        {
            return RangeResult.NotSatisfiable;
        }

        start = from;
        count = Math.Min(to, length - 1) - from + 1;
        return RangeResult.Satisfiable;
    }

    internal static (string ContentType, string Disposition) ContentHeaders(UploadMetadata metadata)
    {
        var type = metadata.GetString("filetype")?.Trim().ToLowerInvariant();
        var contentType = type is not null && IsMediaType(type) ? type : "application/octet-stream";
        var kind = InlineTypes.Contains(contentType) ? "inline" : "attachment";
        var name = metadata.GetString("filename") ?? metadata.GetString("name");
        return (contentType, name is { Length: > 0 } ? kind + FileNameParameters(name) : kind);
    }

    private static bool IsMediaType(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < value.Length - 1 && value.IndexOf('/', slash + 1) < 0 && value.Length <= 127 && value.All(IsTokenChar);

        static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '/' or '!' or '#' or '$' or '&' or '^' or '_' or '.' or '+' or '-';
    }

    /// <summary>RFC 6266: an ASCII fallback in filename and the exact name, UTF-8 percent-encoded, in filename*.</summary>
    private static string FileNameParameters(string name)
    {
        var fallback = new StringBuilder(name.Length);
        var encoded = new StringBuilder(name.Length * 3);
        foreach (var c in name)
        {
            fallback.Append(c is >= ' ' and < '\x7f' and not '"' and not '\\' and not '%' ? c : '_');
        }

        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '&' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~')
            {
                encoded.Append(c);
            }
            else
            {
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return $"; filename=\"{fallback}\"; filename*=UTF-8''{encoded}";
    }
}
