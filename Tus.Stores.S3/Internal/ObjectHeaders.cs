using System.Text;
using Amazon.S3.Model;
using Tus.Protocol;

namespace Tus.Stores.Internal;

/// <summary>
/// The Content-Type and user metadata the final object carries. S3 metadata holds printable ASCII only and at most
/// 2 KB: values are decoded as UTF-8 and every other character becomes <c>?</c>; keys that are not header tokens are
/// left out; entries past 2 KB are dropped. The info object keeps the exact metadata.
/// </summary>
internal static class ObjectHeaders
{
    private const int MaxMetadataBytes = 2000;

    public static string ContentType(UploadMetadata metadata)
    {
        var type = metadata.GetString("filetype") ?? metadata.GetString("contentType");
        return type is not null && IsMediaType(type) ? type : "application/octet-stream";
    }

    public static void Apply(UploadMetadata metadata, MetadataCollection target)
    {
        var total = 0;
        foreach (var (key, value) in metadata)
        {
            if (!IsToken(key))
            {
                continue;
            }

            var text = Sanitize(value.Span);
            total += key.Length + text.Length;
            if (total > MaxMetadataBytes)
            {
                break;
            }

            target[key.ToLowerInvariant()] = text;
        }
    }

    internal static string Sanitize(ReadOnlySpan<byte> value)
    {
        var text = Encoding.UTF8.GetString(value);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return builder.ToString();
    }

    private static bool IsToken(string key)
    {
        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return key.Length > 0;
    }

    private static bool IsMediaType(string type)
    {
        var slash = type.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == type.Length - 1 || type.Length > 255)
        {
            return false;
        }

        foreach (var c in type)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
