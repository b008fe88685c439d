using System.Text.Json;
using System.Text.Json.Serialization;
using Tus.Protocol;

namespace Tus.Stores.Internal;

/// <summary>
/// The content of an upload's <c>{id}.info</c> object: everything but the offset, which is derived from the data objects
/// on every lookup, so no crash can leave an offset that claims bytes S3 does not hold.
/// </summary>
internal sealed record S3InfoDocument
{
    public const int CurrentVersion = 1;

    public int Version { get; init; }

    public string? Id { get; init; }

    public long? Length { get; init; }

    /// <summary>The metadata in the client's order, values as the exact bytes (Base64 in JSON).</summary>
    public IReadOnlyList<S3InfoMetadataEntry>? Metadata { get; init; }

    public S3InfoConcatenation? Concatenation { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public static S3InfoDocument From(NewUpload upload, DateTimeOffset createdAt) => new()
    {
        Version = CurrentVersion,
        Id = upload.Id,
        Length = upload.Length,
        Metadata = upload.Metadata.Select(entry => new S3InfoMetadataEntry { Key = entry.Key, Value = entry.Value.ToArray() }).ToArray(),
        Concatenation = upload.Concatenation is { } concatenation
            ? new S3InfoConcatenation { IsFinal = concatenation.IsFinal, PartialIds = concatenation.PartialIds.ToArray() }
            : null,
        CreatedAt = createdAt,
        ExpiresAt = upload.ExpiresAt,
    };

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, S3StoreJsonContext.Default.S3InfoDocument);

    /// <exception cref="InvalidDataException">The content is not a valid info document for <paramref name="expectedId"/>.</exception>
    public static S3InfoDocument Parse(ReadOnlySpan<byte> json, string expectedId, string key)
    {
        S3InfoDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, S3StoreJsonContext.Default.S3InfoDocument);
        }
        catch (JsonException e)
        {
            throw Corrupt(key, "it is not valid JSON", e);
        }

        if (document is null || document.Version != CurrentVersion || !string.Equals(document.Id, expectedId, StringComparison.Ordinal) || document.Length < 0)
        {
            throw Corrupt(key, "it is not a version " + CurrentVersion + " description of this upload");
        }

        return document;
    }

    public UploadMetadata ReadMetadata(string key)
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
                throw Corrupt(key, $"metadata entry {i} lacks a key or a value");
            }

            entries[i] = new(entry.Key, entry.Value);
        }

        try
        {
            return UploadMetadata.Create(entries);
        }
        catch (ArgumentException e)
        {
            throw Corrupt(key, "its metadata is invalid", e);
        }
    }

    public UploadConcatenation? ReadConcatenation(string key)
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
            throw Corrupt(key, "its list of partial uploads is missing or invalid");
        }

        return UploadConcatenation.Final(partialIds);
    }

    private static InvalidDataException Corrupt(string key, string reason, Exception? inner = null) =>
        new($"The upload info object '{key}' is corrupt: {reason}.", inner);
}

internal sealed record S3InfoMetadataEntry
{
    public string? Key { get; init; }

    public byte[]? Value { get; init; }
}

internal sealed record S3InfoConcatenation
{
    public bool IsFinal { get; init; }

    public IReadOnlyList<string>? PartialIds { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(S3InfoDocument))]
internal sealed partial class S3StoreJsonContext : JsonSerializerContext;
