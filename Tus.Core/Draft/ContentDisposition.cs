using System.Text;

namespace Tus.Draft;

/// <summary>Reads the file name of a Content-Disposition header (RFC 6266): <c>filename*</c> first, then <c>filename</c>.</summary>
internal static class ContentDisposition
{
    public static string? FileName(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        string? plain = null;
        string? extended = null;
        foreach (var (name, value) in Parameters(header))
        {
            if (name.Equals("filename*", StringComparison.OrdinalIgnoreCase))
            {
                extended ??= DecodeExtended(value);
            }
            else if (name.Equals("filename", StringComparison.OrdinalIgnoreCase))
            {
                plain ??= value;
            }
        }

        var fileName = extended ?? plain;

        // Only the last path segment is a file name; control characters are never part of one.
        if (fileName is null)
        {
            return null;
        }

        fileName = fileName[(Math.Max(fileName.LastIndexOf('/'), fileName.LastIndexOf('\\')) + 1)..];
        return fileName.Any(char.IsControl) || fileName.Length == 0 ? null : fileName;
    }

    private static IEnumerable<(string Name, string Value)> Parameters(string header)
    {
        var i = header.IndexOf(';', StringComparison.Ordinal);
        while (i >= 0 && i < header.Length)
        {
            i++;
            var equals = header.IndexOf('=', i);
            if (equals < 0)
            {
                yield break;
            }

            var name = header[i..equals].Trim();
            i = equals + 1;
            while (i < header.Length && header[i] == ' ')
            {
                i++;
            }

            string value;
            if (i < header.Length && header[i] == '"')
            {
                var builder = new StringBuilder();
                i++;
                while (i < header.Length && header[i] != '"')
                {
                    if (header[i] == '\\' && i + 1 < header.Length)
                    {
                        i++;
                    }

                    builder.Append(header[i]);
                    i++;
                }

                value = builder.ToString();
                i = header.IndexOf(';', Math.Min(i, header.Length));
            }
            else
            {
                var end = header.IndexOf(';', i);
                value = (end < 0 ? header[i..] : header[i..end]).Trim();
                i = end;
            }

            yield return (name, value);
        }
    }

    // charset'language'percent-encoded-bytes; only UTF-8 (and its ASCII subset) is decoded.
    private static string? DecodeExtended(string value)
    {
        var first = value.IndexOf('\'', StringComparison.Ordinal);
        var second = first < 0 ? -1 : value.IndexOf('\'', first + 1);
        if (second < 0)
        {
            return null;
        }

        var charset = value[..first];
        if (!charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("US-ASCII", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            return Uri.UnescapeDataString(value[(second + 1)..]);
        }
        catch (UriFormatException)
        {
            return null;
        }
    }
}
