namespace Tus.Stores;

/// <summary>
/// The core storage contract every tus store implements: create an upload, describe it, append bytes to it and read
/// it back. Optional tus extensions are separate capability interfaces that a store declares through the properties
/// below, so that a wrapping store can forward exactly what the store it wraps offers.
/// </summary>
/// <remarks>
/// <para>The engine guarantees that, for any one upload, calls that change it (<see cref="AppendAsync"/> and the
/// capability methods) never run concurrently: it holds the upload's lock around them. Calls for different uploads run
/// in parallel.</para>
/// <para>Every method that returns an <see cref="UploadInfo"/> returns it as it is stored now, with the current offset.
/// Methods given an upload that no longer exists throw <see cref="UploadNotFoundException"/>, except deletions, which
/// succeed. Stores keep metadata entries in the order they were given.</para>
/// <para>Stores never see transport errors. A request body that breaks off, times out or is interrupted ends cleanly
/// for the store as the end of <c>data</c>; the store persists what arrived. (When a checksum was expected, such a body
/// cannot be verified: its end is a <see cref="ChecksumMismatchException"/>, see <see cref="AppendAsync"/>.)</para>
/// <para>Every call gets a token that really fires: the engine bounds each call by its store-call timeout, by the
/// host's shutdown (after a grace period) and by the loss of the upload's lease. A store passes it on to every I/O it
/// makes and lets the resulting <see cref="OperationCanceledException"/> propagate.</para>
/// <para>State a store found in its lookup can ride along in <see cref="UploadInfo.StoreState"/>: within one request the
/// engine hands every call the upload as the store last returned it.</para>
/// <para>Failures the client should see as such are thrown as a <see cref="TusStoreException"/> carrying a stable
/// error (storage full, unavailable, quota exceeded, not found); anything else becomes a 500 with nothing leaked.</para>
/// </remarks>
public interface ITusStore
{
    /// <summary>Creates a new, empty upload.</summary>
    /// <param name="upload">What to create. <see cref="NewUpload.Id"/> is chosen by the engine and already validated.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The stored upload, with an offset of zero.</returns>
    /// <exception cref="UploadAlreadyExistsException">An upload with that id exists already.</exception>
    ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken);

    /// <summary>Reads everything known about one upload in a single lookup.</summary>
    /// <param name="uploadId">A validated upload id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The upload, or <see langword="null"/> when no upload has that id.</returns>
    ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Appends <paramref name="data"/> at the upload's current offset (<see cref="UploadInfo.Offset"/>).
    /// </summary>
    /// <param name="upload">The upload as last returned by this store; the engine has checked the client's offset
    /// against it and holds the upload's lock.</param>
    /// <param name="data">The bytes to append. The engine has already capped it at the bytes the upload may still take;
    /// it ends cleanly (a read returns 0) when the request ends for any reason, except when a checksum is expected and
    /// the bytes fail it: then the read that would return 0 throws <see cref="ChecksumMismatchException"/>.</param>
    /// <param name="cancellationToken">Fires when the engine abandons the write: the store made no progress (neither read
    /// from <paramref name="data"/> nor returned) for the store-call timeout, the host is stopping and its grace period is
    /// over, or the upload's lease was lost. Even then, bytes already written must stay reported by <see cref="GetAsync"/>.</param>
    /// <returns>The number of bytes appended and durably accounted for.</returns>
    /// <remarks>
    /// <para>When this method throws (its token fired, the backend failed, <paramref name="data"/> threw), the engine
    /// does not guess what was kept: it asks <see cref="GetAsync"/> for the offset before it answers. So the offset a
    /// store reports afterwards must be exactly the bytes it has stored, every one of them as received.</para>
    /// <para>A <see cref="ChecksumMismatchException"/> from <paramref name="data"/> (only for stores that declare
    /// <see cref="Checksum"/>) means the body's bytes failed verification: a store should keep none of them beyond what
    /// it had and let the exception propagate. A store that keeps them anyway is still correct: the engine takes them
    /// back with <see cref="ITusChecksumStore.DiscardFromAsync"/>.</para>
    /// </remarks>
    ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken);

    /// <summary>Opens a stream over a byte range of the upload's data.</summary>
    /// <remarks>The engine calls it only for complete uploads (downloads), and concatenation only ever involves complete
    /// partial uploads. It never reads back an unfinished upload (checksums are verified as the body streams), so a
    /// store that cannot read an unfinished upload's bytes (an S3 multipart upload, say) may throw
    /// <see cref="NotSupportedException"/> for such ranges.</remarks>
    /// <param name="upload">The upload to read.</param>
    /// <param name="offset">The first byte to read.</param>
    /// <param name="length">How many bytes to read; <paramref name="offset"/> + <paramref name="length"/> never exceeds the upload's offset.</param>
    /// <param name="cancellationToken">Bounds opening the stream only (the store-call timeout applies to it): the stream
    /// returned must not depend on it afterwards, since a download may outlast any call timeout. Reads of the stream get
    /// tokens of their own.</param>
    /// <returns>A stream the caller disposes.</returns>
    ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken);

    /// <summary>The termination capability, or <see langword="null"/> when uploads cannot be deleted.</summary>
    ITusTerminationStore? Termination { get; }

    /// <summary>The concatenation capability, or <see langword="null"/> when uploads cannot be concatenated.</summary>
    ITusConcatenationStore? Concatenation { get; }

    /// <summary>The deferred-length capability, or <see langword="null"/> when every upload needs its length at creation.</summary>
    ITusDeferredLengthStore? DeferredLength { get; }

    /// <summary>The expiration capability, or <see langword="null"/> when uploads never expire.</summary>
    ITusExpirationStore? Expiration { get; }

    /// <summary>The checksum capability (discarding unverified bytes), or <see langword="null"/> when the store cannot take bytes back.</summary>
    ITusChecksumStore? Checksum { get; }

    /// <summary>The listing capability, or <see langword="null"/> when the store cannot enumerate its uploads.</summary>
    ITusListingStore? Listing { get; }
}
