using System.Globalization;

namespace Tus.Engine;

internal static class HeaderValues
{
    /// <summary>Parses a non-negative decimal integer with no sign, spaces or other decoration.</summary>
    public static bool TryParseLength(string? value, out long result)
    {
        result = 0;
        if (string.IsNullOrEmpty(value) || value.Length > 19)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result);
    }

    /// <summary>Whether a Content-Type header names <paramref name="mediaType"/>, ignoring parameters and case.</summary>
    public static bool IsMediaType(string? contentType, string mediaType)
    {
        if (contentType is null)
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var type = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return type.Equals(mediaType, StringComparison.OrdinalIgnoreCase);
    }
}
