using System.Security.Cryptography;

namespace Tus.Protocol;

/// <summary>Creates and validates upload ids.</summary>
/// <remarks>
/// Every id that enters the system (from a URL, an <c>Upload-Concat</c> header or a hook) is checked here, so an id is
/// always a plain token of ASCII letters, digits, '-' and '_': it can name a file, an object key or a lock without any
/// escaping, and it can never climb out of a store's own space.
/// </remarks>
public static class UploadId
{
    /// <summary>The longest id accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>Creates a new id from 128 random bits, as 32 lowercase hexadecimal characters.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexString(bytes).ToLowerInvariant();
    }

    /// <summary>Whether <paramref name="id"/> is 1 to <see cref="MaxLength"/> characters of [A-Za-z0-9_-].</summary>
    /// <param name="id">The candidate.</param>
    public static bool IsValid(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws when <paramref name="id"/> is not valid.</summary>
    /// <param name="id">The candidate.</param>
    /// <param name="paramName">The parameter name for the exception.</param>
    /// <exception cref="ArgumentException">The id is not valid.</exception>
    public static void ThrowIfInvalid(string id, string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(id, paramName);
        if (!IsValid(id))
        {
            throw new ArgumentException($"'{id}' is not a valid upload id: ids are 1 to {MaxLength} characters of A-Z, a-z, 0-9, '-' and '_'.", paramName ?? nameof(id));
        }
    }
}
