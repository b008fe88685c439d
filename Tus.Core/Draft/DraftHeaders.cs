using System.Globalization;

namespace Tus.Draft;

/// <summary>The draft's header names, media type and interop versions, and how each version differs.</summary>
internal static class DraftHeaders
{
    public const string InteropVersion = "Upload-Draft-Interop-Version";
    public const string UploadComplete = "Upload-Complete";
    public const string UploadIncomplete = "Upload-Incomplete";
    public const string UploadLimit = "Upload-Limit";
    public const string PartialUpload = "application/partial-upload";

    /// <summary>The oldest interop version served: draft -01, the first that tusd and Apple's first client speak.</summary>
    public const int OldestVersion = 3;

    /// <summary>
    /// The newest interop version served. The newest text found (the editor's copy following -11) defines 8; draft -12
    /// is announced as interop 9, whose text could not be found here, so 9 is served with the rules of 8 (the same
    /// headers, media type, limits and problem types) and answered as 9.
    /// </summary>
    public const int NewestVersion = 9;

    /// <summary>Interop 3 (draft -01) says <c>Upload-Incomplete</c>; from 4 (draft -02) the inverse, <c>Upload-Complete</c>.</summary>
    public static bool UsesIncomplete(int version) => version == 3;

    /// <summary>From interop 6 (draft -04): PATCH bodies are <c>application/partial-upload</c>, <c>Upload-Limit</c> and problem types exist.</summary>
    public static bool HasLimitsAndProblems(int version) => version >= 6;

    /// <summary>Interop 6 names the lifetime limit <c>expires</c>; interop 7 (draft -06) renamed it <c>max-age</c>.</summary>
    public static string AgeLimitKey(int version) => version >= 7 ? "max-age" : "expires";

    /// <summary>Parses a structured-field Boolean (<c>?0</c>, <c>?1</c>), ignoring parameters; anything else is absent.</summary>
    public static bool? ParseBoolean(string? value)
    {
        var item = BareItem(value);
        return item switch
        {
            "?1" => true,
            "?0" => false,
            _ => null,
        };
    }

    /// <summary>Parses a structured-field Integer that is non-negative (at most 15 digits); anything else is absent.</summary>
    public static long? ParseNonNegativeInteger(string? value)
    {
        var item = BareItem(value);
        if (item is null || item.Length is 0 or > 15)
        {
            return null;
        }

        foreach (var c in item)
        {
            if (!char.IsAsciiDigit(c))
            {
                return null;
            }
        }

        return long.Parse(item, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    public static string FormatBoolean(bool value) => value ? "?1" : "?0";

    // A structured-field item may carry parameters (";key=value") that this draft gives no meaning.
    private static string? BareItem(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? value : value[..semicolon]).Trim();
    }
}
