using System.Text.Json;
using System.Text.Json.Serialization;
using Tus.Protocol;

namespace Tus.Stores.Internal;

/// <summary>
/// The content of an upload's <c>{id}.info</c> file or object, the same JSON in every store that keeps one. The offset is
/// deliberately absent: each store derives it from the data it holds (a file's length, the objects' sizes), so no crash
/// can leave an offset that claims bytes the store does not have.
/// </summary>
/// <remarks>A linked source (eng/Shared), compiled into each store package as an internal type; never a public package.</remarks>
internal sealed record UploadInfoDocument
{
    /// <summary>The only format written and read so far.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The format version, so that a later format can be told apart.</summary>
    public int Version { get; init; }

    /// <summary>The upload id; must match the file name.</summary>
    public string? Id { get; init; }

    /// <summary>The length, or null while deferred.</summary>
    public long? Length { get; init; }

    /// <summary>The metadata, in the client's order, values as the exact bytes (Base64 in JSON).</summary>
    public IReadOnlyList<UploadInfoMetadataEntry>? Metadata { get; init; }

    /// <summary>Partial or final upload details; null for a plain upload.</summary>
    public UploadInfoConcatenation? Concatenation { get; init; }

    /// <summary>The creation time.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The expiry, or null for none.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The S3 store's multipart upload holding an unfinished upload's parts; null elsewhere (and not written).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MultipartUploadId { get; init; }

    public static UploadInfoDocument From(NewUpload upload, DateTimeOffset createdAt) => new()
    {
        Version = CurrentVersion,
        Id = upload.Id,
        Length = upload.Length,
        Metadata = upload.Metadata.Select(entry => new UploadInfoMetadataEntry { Key = entry.Key, Value = entry.Value.ToArray() }).ToArray(),
        Concatenation = upload.Concatenation is { } concatenation
            ? new UploadInfoConcatenation { IsFinal = concatenation.IsFinal, PartialIds = concatenation.PartialIds.ToArray() }
            : null,
        CreatedAt = createdAt,
        ExpiresAt = upload.ExpiresAt,
    };

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, UploadInfoJsonContext.Default.UploadInfoDocument);

    /// <summary>Parses and checks an info document; <paramref name="path"/> (a file path or an object key) names it in errors.</summary>
    /// <exception cref="InvalidDataException">The content is not a valid info document for <paramref name="expectedId"/>.</exception>
    public static UploadInfoDocument Parse(ReadOnlySpan<byte> json, string expectedId, string path)
    {
        UploadInfoDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, UploadInfoJsonContext.Default.UploadInfoDocument);
        }
        catch (JsonException e)
        {
            throw Corrupt(path, "it is not valid JSON", e);
        }

        if (document is null)
        {
            throw Corrupt(path, "it holds no document");
        }

        if (document.Version != CurrentVersion)
        {
            throw Corrupt(path, $"its format version is {document.Version}, only {CurrentVersion} is known");
        }

        if (!string.Equals(document.Id, expectedId, StringComparison.Ordinal))
        {
            throw Corrupt(path, $"it describes upload '{document.Id}'");
        }

        if (document.Length < 0)
        {
            throw Corrupt(path, "its length is negative");
        }

        return document;
    }

    /// <summary>Builds the engine's view of the upload.</summary>
    /// <exception cref="InvalidDataException">The metadata or the concatenation details are invalid.</exception>
    public UploadInfo ToUploadInfo(long offset, IReadOnlyDictionary<string, string> storage, string path) => new()
    {
        Id = Id!,
        Length = Length,
        Offset = offset,
        Metadata = ReadMetadata(path),
        Concatenation = ReadConcatenation(path),
        CreatedAt = CreatedAt,
        ExpiresAt = ExpiresAt,
        Storage = storage,
    };

    public UploadMetadata ReadMetadata(string path)
    {
        if (Metadata is null || Metadata.Count == 0)
        {
            return UploadMetadata.Empty;
        }

        var entries = new KeyValuePair<string, ReadOnlyMemory<byte>>[Metadata.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = Metadata[i];
            if (entry?.Key is null || entry.Value is null)
            {
                throw Corrupt(path, $"metadata entry {i} lacks a key or a value");
            }

            entries[i] = new(entry.Key, entry.Value);
        }

        try
        {
            return UploadMetadata.Create(entries);
        }
        catch (ArgumentException e)
        {
            throw Corrupt(path, "its metadata is invalid", e);
        }
    }

    public UploadConcatenation? ReadConcatenation(string path)
    {
        if (Concatenation is null)
        {
            return null;
        }

        if (!Concatenation.IsFinal)
        {
            return UploadConcatenation.Partial;
        }

        var partialIds = Concatenation.PartialIds;
        if (partialIds is null || partialIds.Count == 0 || partialIds.Any(id => !UploadId.IsValid(id)))
        {
            throw Corrupt(path, "its list of partial uploads is missing or invalid");
        }

        return UploadConcatenation.Final(partialIds);
    }

    private static InvalidDataException Corrupt(string location, string reason, Exception? inner = null) =>
        new($"The upload info '{location}' is corrupt: {reason}.", inner);
}

/// <summary>One metadata entry of an info document.</summary>
internal sealed record UploadInfoMetadataEntry
{
    public string? Key { get; init; }

    public byte[]? Value { get; init; }
}

/// <summary>The concatenation details of an info document.</summary>
internal sealed record UploadInfoConcatenation
{
    public bool IsFinal { get; init; }

    public IReadOnlyList<string>? PartialIds { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(UploadInfoDocument))]
internal sealed partial class UploadInfoJsonContext : JsonSerializerContext;
