namespace Tus.Stores;

/// <summary>The tus termination extension: uploads can be deleted.</summary>
public interface ITusTerminationStore
{
    /// <summary>Deletes an upload and everything stored for it. Deleting an upload that does not exist succeeds.</summary>
    /// <param name="uploadId">A validated upload id.</param>
    /// <param name="cancellationToken">Cancels the deletion.</param>
    ValueTask DeleteAsync(string uploadId, CancellationToken cancellationToken);
}

/// <summary>The tus concatenation extension: a final upload is assembled from partial uploads.</summary>
/// <remarks>
/// Partial and final uploads are created through <see cref="ITusStore.CreateAsync"/> with
/// <see cref="NewUpload.Concatenation"/> set. The engine calls <see cref="ConcatenateAsync"/> once every partial upload
/// is complete, under the final upload's lock.
/// </remarks>
public interface ITusConcatenationStore
{
    /// <summary>Writes the data of <paramref name="partials"/>, in order, as the data of <paramref name="final"/>.</summary>
    /// <param name="final">The final upload, still empty.</param>
    /// <param name="partials">The complete partial uploads, in the order the client listed them.</param>
    /// <param name="cancellationToken">Cancels the concatenation; a cancelled concatenation leaves the final upload empty.</param>
    /// <returns>The final upload, complete: its length and offset are the sum of the partial lengths.</returns>
    ValueTask<UploadInfo> ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken);
}

/// <summary>The tus creation-defer-length extension: an upload's length can be declared after its creation.</summary>
public interface ITusDeferredLengthStore
{
    /// <summary>Records the length of an upload created without one.</summary>
    /// <param name="upload">An upload whose <see cref="UploadInfo.Length"/> is <see langword="null"/>.</param>
    /// <param name="length">The length, never below the upload's offset.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>The upload with its length set.</returns>
    ValueTask<UploadInfo> SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken);
}

/// <summary>
/// The tus expiration extension: unfinished uploads expire and are removed. A store that offers it must also offer
/// listing (<see cref="ITusStore.Listing"/>): the engine's sweep finds expired uploads through it, and serves
/// expiration only when both are there.
/// </summary>
public interface ITusExpirationStore
{
    /// <summary>Records a new expiry time for an upload (a sliding expiration moves it on every write).</summary>
    /// <param name="upload">The upload.</param>
    /// <param name="expiresAt">The new expiry, or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>The upload with its new expiry.</returns>
    ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken);

    /// <summary>Removes an expired upload and everything stored for it. Removing one that is gone already succeeds.</summary>
    /// <param name="uploadId">A validated upload id.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    ValueTask RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken);
}

/// <summary>
/// The tus checksum extension (and checksum-trailer). The engine hashes each request body as it streams to the store
/// (with every supported algorithm when the checksum comes as a trailer). When the bytes fail verification, the body's
/// last read throws <see cref="ChecksumMismatchException"/> so the store can avoid keeping them, and the engine asks the
/// store to take back any it kept anyway.
/// </summary>
public interface ITusChecksumStore
{
    /// <summary>Discards every byte at or after <paramref name="offset"/>, returning the upload to that offset.</summary>
    /// <param name="upload">The upload as returned after the append being undone.</param>
    /// <param name="offset">The offset the upload had before that append.</param>
    /// <param name="cancellationToken">Cancels the discard.</param>
    /// <returns>The upload at <paramref name="offset"/>.</returns>
    ValueTask<UploadInfo> DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken);
}

/// <summary>
/// Listing: every upload the store holds, with its info. The engine's expiration sweep and wrapping stores (a quota
/// that rebuilds its accounting at start-up) use it.
/// </summary>
public interface ITusListingStore
{
    /// <summary>Streams every upload the store holds, each as <see cref="ITusStore.GetAsync"/> would return it.</summary>
    /// <param name="cancellationToken">Cancels the listing; the enumeration then throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The uploads, in no particular order, each exactly once.</returns>
    /// <remarks>
    /// <para>Streamed (or paged behind the enumerator), never loaded whole: a store may hold millions of uploads.</para>
    /// <para>Uploads may be created, written and removed while the listing runs: an upload that exists throughout is
    /// listed exactly once; one created or removed meanwhile may or may not be. An upload that disappears between being
    /// found and being read is skipped, not an error.</para>
    /// </remarks>
    IAsyncEnumerable<UploadInfo> ListAsync(CancellationToken cancellationToken);
}
