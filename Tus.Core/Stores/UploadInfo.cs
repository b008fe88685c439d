using Tus.Protocol;

namespace Tus.Stores;

/// <summary>Everything a store knows about one upload, read in a single lookup.</summary>
public sealed record UploadInfo
{
    /// <summary>The upload's id: unguessable, and only ever made of the characters <see cref="UploadId.IsValid"/> allows.</summary>
    public required string Id { get; init; }

    /// <summary>The total length in bytes, or <see langword="null"/> while it is deferred (or, for a final upload, not yet known).</summary>
    public long? Length { get; init; }

    /// <summary>How many bytes have been stored.</summary>
    public long Offset { get; init; }

    /// <summary>The metadata the client sent at creation, values as exact bytes.</summary>
    public UploadMetadata Metadata { get; init; } = UploadMetadata.Empty;

    /// <summary>Whether this upload is a partial or a final upload of the concatenation extension; <see langword="null"/> for a plain upload.</summary>
    public UploadConcatenation? Concatenation { get; init; }

    /// <summary>When the upload was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When an unfinished upload expires, or <see langword="null"/> when it never does.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Where the store keeps the upload (file paths, bucket and key, ...): informational, for hooks and logs.</summary>
    public IReadOnlyDictionary<string, string> Storage { get; init; } = EmptyStorage;

    /// <summary>
    /// State the store found in its single lookup and wants back in the later calls of the same request (a multipart
    /// upload id, the parts uploaded so far, a buffered tail, an ETag), so that it never has to look the upload up twice.
    /// </summary>
    /// <remarks>
    /// <para>Opaque to the engine: it never reads, copies or replaces it. Every later call of the same request receives
    /// the <see cref="UploadInfo"/> this store returned last (or one derived from it with <c>with</c>), so the state
    /// travels with it unchanged. The store may keep it mutable and update it in place, since one request's calls for
    /// one upload never overlap.</para>
    /// <para>It lives for one request only: the next request starts with a fresh <see cref="ITusStore.GetAsync"/>.
    /// Default: <see langword="null"/>.</para>
    /// </remarks>
    public object? StoreState { get; init; }

    /// <summary>
    /// The fencing token of the lock the engine holds for this upload during the call (<see cref="Locking.ITusLock.FencingToken"/>),
    /// or <see langword="null"/> when the call is made without the lock (downloads of finished uploads, listings).
    /// </summary>
    /// <remarks>Set by the engine after the store returns the upload. A store that records the highest token it has
    /// seen can refuse a write carrying a lower one: a request whose lease was lost and then granted to another.</remarks>
    public long? FencingToken { get; init; }

    /// <summary><see langword="true"/> when the length is still unknown.</summary>
    public bool IsLengthDeferred => Length is null;

    /// <summary><see langword="true"/> when every byte of a known length has been stored.</summary>
    public bool IsComplete => Length is long length && Offset == length;

    /// <summary>How many bytes the upload can still take, or <see langword="null"/> when its length is deferred.</summary>
    public long? Remaining => Length - Offset;

    /// <summary>Whether the upload had expired at <paramref name="now"/>; complete uploads never expire.</summary>
    /// <param name="now">The current time.</param>
    public bool IsExpiredAt(DateTimeOffset now) => !IsComplete && ExpiresAt is { } expiry && expiry <= now;

    // Read-only, since every upload without storage details shares it: a hook must not be able to change them all.
    private static readonly IReadOnlyDictionary<string, string> EmptyStorage = System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;
}

/// <summary>What the engine asks a store to create.</summary>
public sealed record NewUpload
{
    /// <summary>The id to create the upload under: chosen by the engine (or a pre-create hook) and validated.</summary>
    public required string Id { get; init; }

    /// <summary>The total length, or <see langword="null"/> when deferred (or for a final upload whose partials are unfinished).</summary>
    public long? Length { get; init; }

    /// <summary>The client's metadata.</summary>
    public UploadMetadata Metadata { get; init; } = UploadMetadata.Empty;

    /// <summary>Partial or final upload details; <see langword="null"/> for a plain upload.</summary>
    public UploadConcatenation? Concatenation { get; init; }

    /// <summary>The creation time.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The expiry, or <see langword="null"/> for none.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>The role an upload plays in the concatenation extension.</summary>
public sealed record UploadConcatenation
{
    private UploadConcatenation(bool isFinal, IReadOnlyList<string> partialIds)
    {
        IsFinal = isFinal;
        PartialIds = partialIds;
    }

    /// <summary>A partial upload, to be concatenated into a final one.</summary>
    public static UploadConcatenation Partial { get; } = new(isFinal: false, []);

    /// <summary>A final upload made of the given partial uploads, in order.</summary>
    /// <param name="partialIds">The ids of the partial uploads, at least one.</param>
    public static UploadConcatenation Final(IReadOnlyList<string> partialIds)
    {
        ArgumentNullException.ThrowIfNull(partialIds);
        if (partialIds.Count == 0)
        {
            throw new ArgumentException("A final upload needs at least one partial upload.", nameof(partialIds));
        }

        return new UploadConcatenation(isFinal: true, partialIds.ToArray());
    }

    /// <summary><see langword="true"/> for a final upload, <see langword="false"/> for a partial one.</summary>
    public bool IsFinal { get; }

    /// <summary><see langword="true"/> for a partial upload.</summary>
    public bool IsPartial => !IsFinal;

    /// <summary>For a final upload, the ids of its partial uploads in order; empty for a partial upload.</summary>
    public IReadOnlyList<string> PartialIds { get; }

    /// <inheritdoc />
    public bool Equals(UploadConcatenation? other) =>
        other is not null && IsFinal == other.IsFinal && PartialIds.SequenceEqual(other.PartialIds, StringComparer.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(IsFinal, PartialIds.Count);
}
