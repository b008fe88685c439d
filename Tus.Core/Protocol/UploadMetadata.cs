using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Tus.Protocol;

/// <summary>
/// The metadata of an upload (the <c>Upload-Metadata</c> header): an ordered set of unique keys, each with a value kept
/// as the exact bytes the client encoded, whether or not they are text.
/// </summary>
public sealed class UploadMetadata : IReadOnlyList<KeyValuePair<string, ReadOnlyMemory<byte>>>
{
    private readonly KeyValuePair<string, ReadOnlyMemory<byte>>[] _entries;

    private UploadMetadata(KeyValuePair<string, ReadOnlyMemory<byte>>[] entries) => _entries = entries;

    /// <summary>Metadata with no entries.</summary>
    public static UploadMetadata Empty { get; } = new([]);

    /// <summary>The number of entries.</summary>
    public int Count => _entries.Length;

    /// <summary>The entry at <paramref name="index"/>, in the order the client sent them.</summary>
    /// <param name="index">The position.</param>
    public KeyValuePair<string, ReadOnlyMemory<byte>> this[int index] => _entries[index];

    /// <summary>Creates metadata from entries, validating every key.</summary>
    /// <param name="entries">The entries; keys must be unique and valid (see <see cref="IsValidKey"/>).</param>
    /// <exception cref="ArgumentException">A key is invalid or repeated.</exception>
    public static UploadMetadata Create(IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = new List<KeyValuePair<string, ReadOnlyMemory<byte>>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!IsValidKey(entry.Key))
            {
                throw new ArgumentException($"'{entry.Key}' is not a valid metadata key: keys are non-empty printable ASCII without spaces or commas.", nameof(entries));
            }

            if (!seen.Add(entry.Key))
            {
                throw new ArgumentException($"The metadata key '{entry.Key}' appears more than once.", nameof(entries));
            }

            list.Add(new(entry.Key, entry.Value.ToArray()));
        }

        return list.Count == 0 ? Empty : new UploadMetadata(list.ToArray());
    }

    /// <summary>Creates metadata from text values, encoded as UTF-8.</summary>
    /// <param name="entries">Keys and their text values.</param>
    public static UploadMetadata FromStrings(IEnumerable<KeyValuePair<string, string>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return Create(entries.Select(e => new KeyValuePair<string, ReadOnlyMemory<byte>>(e.Key, Encoding.UTF8.GetBytes(e.Value))));
    }

    /// <summary>Whether a key is acceptable: non-empty, printable ASCII, no space and no comma.</summary>
    /// <param name="key">The key to check.</param>
    public static bool IsValidKey([NotNullWhen(true)] string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c is <= ' ' or > '~' or ',')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a key is present.</summary>
    /// <param name="key">The key.</param>
    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    /// <summary>Gets a value's bytes.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value's bytes, when found.</param>
    public bool TryGetValue(string key, out ReadOnlyMemory<byte> value)
    {
        var index = IndexOf(key);
        value = index >= 0 ? _entries[index].Value : default;
        return index >= 0;
    }

    /// <summary>Gets a value decoded as UTF-8 text, or <see langword="null"/> when absent or not valid UTF-8.</summary>
    /// <param name="key">The key.</param>
    public string? GetString(string key)
    {
        if (!TryGetValue(key, out var bytes))
        {
            return null;
        }

        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Returns a copy with one entry added or replaced.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value's bytes.</param>
    public UploadMetadata With(string key, ReadOnlyMemory<byte> value)
    {
        var entries = _entries.Where(e => e.Key != key).Append(new(key, value));
        return Create(entries);
    }

    /// <summary>Returns a copy without the given key.</summary>
    /// <param name="key">The key.</param>
    public UploadMetadata Without(string key) => Create(_entries.Where(e => e.Key != key));

    /// <summary>Parses an <c>Upload-Metadata</c> header value.</summary>
    /// <param name="header">The header value; <see langword="null"/> or blank gives <see cref="Empty"/>.</param>
    /// <param name="metadata">The metadata, when valid.</param>
    /// <returns><see langword="false"/> when a key is invalid or repeated, or a value is not Base64.</returns>
    public static bool TryParse(string? header, [NotNullWhen(true)] out UploadMetadata? metadata)
    {
        metadata = null;
        if (string.IsNullOrWhiteSpace(header))
        {
            metadata = Empty;
            return true;
        }

        var entries = new List<KeyValuePair<string, ReadOnlyMemory<byte>>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rawPair in header.Split(','))
        {
            var pair = rawPair.AsSpan().Trim(' ').Trim('\t');
            if (pair.IsEmpty)
            {
                return false;
            }

            var space = pair.IndexOf(' ');
            var key = (space < 0 ? pair : pair[..space]).ToString();
            var encoded = space < 0 ? [] : pair[(space + 1)..].Trim(' ');
            if (!IsValidKey(key) || !seen.Add(key) || encoded.IndexOf(' ') >= 0)
            {
                return false;
            }

            var bytes = new byte[encoded.Length / 4 * 3 + 3];
            if (!Convert.TryFromBase64Chars(encoded, bytes, out var written))
            {
                return false;
            }

            entries.Add(new(key, bytes.AsMemory(0, written)));
        }

        metadata = new UploadMetadata(entries.ToArray());
        return true;
    }

    /// <summary>Formats the metadata as an <c>Upload-Metadata</c> header value.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in _entries)
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(key);
            if (!value.IsEmpty)
            {
                builder.Append(' ').Append(Convert.ToBase64String(value.Span));
            }
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, ReadOnlyMemory<byte>>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, ReadOnlyMemory<byte>>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        for (var i = 0; i < _entries.Length; i++)
        {
            if (string.Equals(_entries[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
