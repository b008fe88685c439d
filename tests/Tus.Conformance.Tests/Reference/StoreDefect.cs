namespace Tus.Conformance.Tests.Reference;

/// <summary>One rule of the store contract that <see cref="ReferenceStore"/> breaks on purpose; <see cref="None"/> for a
/// correct store.</summary>
public enum StoreDefect
{
    /// <summary>A correct store.</summary>
    None,

    // Core

    /// <summary>CreateAsync returns the new upload without its length.</summary>
    CreateReturnsNoLength,

    /// <summary>GetAsync invents an empty upload for an unknown id instead of returning null.</summary>
    PhantomUploads,

    /// <summary>CreateAsync replaces an existing upload instead of throwing UploadAlreadyExistsException.</summary>
    CreateOverwritesExisting,

    /// <summary>CreateAsync checks for the id, awaits, then inserts: simultaneous creations of one id all succeed.</summary>
    CreateRaceAllowsDuplicates,

    /// <summary>CreateAsync refuses to run while another creation runs, reporting a conflict for a distinct id.</summary>
    CreateRejectsConcurrentCreates,

    /// <summary>An upload created with length 0 is stored with a deferred length, so it is never complete.</summary>
    ZeroLengthStoredAsDeferred,

    /// <summary>The creation time stored is the store's clock, not the one given.</summary>
    CreatedAtNotKept,

    /// <summary>Metadata values are kept as UTF-8 text: bytes that are not valid UTF-8 are replaced.</summary>
    MetadataAsText,

    /// <summary>Metadata is kept sorted by key instead of in the client's order.</summary>
    MetadataUnordered,

    /// <summary>An append rewrites the upload's description without its metadata.</summary>
    AppendDropsMetadata,

    /// <summary>AppendAsync reports one byte more than it wrote.</summary>
    OffByOneAppendCount,

    /// <summary>The offset is a stored counter, updated only when an append ends without an exception, while the bytes
    /// written before a failure stay in the data (offset stored instead of derived from the data).</summary>
    OffsetRecordedAfterSuccessOnly,

    /// <summary>A body that ends before the upload's length is thrown away: only whole remaining bodies are kept.</summary>
    DiscardsBodyThatEndsEarly,

    /// <summary>An empty body makes AppendAsync throw (as a backend refusing empty parts would).</summary>
    EmptyAppendFails,

    /// <summary>All appends share one buffer and wait (an asynchronous write) between filling and storing it, so parallel
    /// appends mix bytes.</summary>
    SharedAppendBuffer,

    /// <summary>AppendAsync copies the whole body into memory before storing it.</summary>
    BuffersWholeBody,

    /// <summary>AppendAsync reserves a whole block in the data before each read and keeps it when the body throws, so
    /// the offset counts bytes that never arrived.</summary>
    AppendFailureOverReportsOffset,

    /// <summary>The store state records the offset of the lookup and is not kept in step by appends, so an append given
    /// an upload derived with 'with { Offset = ... }' is refused.</summary>
    StoreStateGoesStale,

    /// <summary>Calls given an upload with store state trust the state without checking that the upload still exists,
    /// so they work on a deleted upload instead of throwing UploadNotFoundException.</summary>
    StaleStateOutlivesDeletion,

    /// <summary>AppendAsync fills a whole 64 KiB buffer before writing it, and loses the part it filled when it is
    /// cancelled (or its body fails) midway: the offset falls back to the last multiple of the buffer size.</summary>
    CancelDropsPartialBuffer,

    /// <summary>The store never looks at its cancellation token (and reads the body without it).</summary>
    IgnoresCancellationToken,

    /// <summary>Lookups by id throw KeyNotFoundException (a dictionary's indexer) instead of UploadNotFoundException,
    /// wherever an upload without store state is looked up.</summary>
    MissingUploadWrongException,

    /// <summary>Ids are looked up ignoring case, as on a case-insensitive file system.</summary>
    IdsCaseInsensitive,

    /// <summary>Every UploadInfo's Storage is the store's own dictionary, which appends update in place.</summary>
    InfoSharesStorage,

    /// <summary>The upload being appended to is kept in a field of the store across the await of each read, so parallel
    /// appends to different uploads write into each other.</summary>
    AppendTargetInSharedField,

    // Reading back

    /// <summary>The stream OpenReadAsync returns watches the token OpenReadAsync was given, so a download fails once the
    /// call's timeout fires.</summary>
    ReadStreamKeepsOpenToken,

    /// <summary>A range that does not start at 0 is read from one byte too far.</summary>
    ReadRangeOffByOne,

    /// <summary>A range is read to the end of the data, whatever its length.</summary>
    ReadIgnoresLength,

    /// <summary>The last partial 64 KiB block of a range longer than 64 KiB is not returned.</summary>
    ReadDropsLastPartialBlock,

    /// <summary>OpenReadAsync refuses uploads that are not complete.</summary>
    ReadUnfinishedFails,

    /// <summary>The read stream moves by a whole 64 KiB block per read, even when the caller's buffer is smaller.</summary>
    ReadSkipsWhenBufferIsSmall,

    /// <summary>All read streams of an upload share one position.</summary>
    ReadStreamSharedPosition,

    // Termination

    /// <summary>Deleting an upload that does not exist throws UploadNotFoundException.</summary>
    DeleteNotIdempotent,

    /// <summary>Deleting removes the data but keeps the description, so the upload is still found.</summary>
    DeleteOnlyData,

    /// <summary>Deleting forgets the upload but keeps its data, which a new upload with the same id inherits.</summary>
    DeleteKeepsData,

    /// <summary>Deleting one upload deletes every upload.</summary>
    DeleteRemovesAll,

    // Concatenation

    /// <summary>A partial upload is stored as a plain upload.</summary>
    PartialRoleLost,

    /// <summary>A final upload's partial ids are stored sorted instead of in the listed order.</summary>
    FinalPartialIdsSorted,

    /// <summary>Partials are concatenated in the order they were created, not the order listed.</summary>
    ConcatenationInCreationOrder,

    /// <summary>A final upload created without a length keeps no length after concatenation.</summary>
    FinalLengthNotRecorded,

    /// <summary>ConcatenateAsync returns the final upload as it was passed in, empty.</summary>
    ConcatenateReturnsStale,

    /// <summary>Concatenation moves the partials' data into the final upload and deletes the partials.</summary>
    ConcatenationConsumesPartials,

    /// <summary>Concatenation stops at the first empty partial upload.</summary>
    ConcatenationStopsAtEmptyPartial,

    /// <summary>A cancelled concatenation leaves the bytes it copied in the final upload.</summary>
    ConcatenationCancelLeavesData,

    /// <summary>Each partial is read through a cursor kept with it and never moved back, so a partial concatenated into
    /// a second final upload gives it nothing.</summary>
    ConcatenationReusesPartialCursor,

    /// <summary>Deleting an upload with an expiry leaves it in the store's index of expiring uploads: the listing lists
    /// it, and removing it throws.</summary>
    DeleteLeavesExpiryIndexEntry,

    // Deferred length

    /// <summary>An upload created without a length is stored with length 0.</summary>
    DeferredCreateStoresZero,

    /// <summary>AppendAsync refuses uploads whose length is not known yet.</summary>
    AppendRequiresLength,

    /// <summary>SetLengthAsync returns the length but does not store it.</summary>
    DeferredLengthNotPersisted,

    /// <summary>SetLengthAsync re-creates the upload, losing its data.</summary>
    SetLengthResetsData,

    // Expiration

    /// <summary>CreateAsync ignores the expiry it is given.</summary>
    ExpiryNotStamped,

    /// <summary>SetExpiryAsync returns the new expiry but does not store it.</summary>
    SetExpiryNotPersisted,

    /// <summary>SetExpiryAsync returns the upload with offset 0 (its stored description, without the derived offset).</summary>
    SetExpiryReturnsStaleOffset,

    /// <summary>The store declares expiration but no listing, so the engine cannot sweep and does not serve expiration.</summary>
    ExpirationWithoutListing,

    /// <summary>RemoveExpiredAsync removes every upload.</summary>
    RemoveExpiredRemovesAll,

    /// <summary>RemoveExpiredAsync throws for an upload that is gone already.</summary>
    RemoveExpiredNotIdempotent,

    // Listing

    /// <summary>The listing lists a marker the store keeps for itself (as a bucket's folder object) as one more upload.</summary>
    ListingListsItsOwnMarker,

    /// <summary>The listing loses the upload created last (a last page never read).</summary>
    ListingSkipsLastUpload,

    /// <summary>The listing loses the first upload of every page after the first (pages of 128).</summary>
    ListingDropsPageBoundary,

    /// <summary>Deleted and expired-removed uploads are kept as tombstones, which the listing lists.</summary>
    ListingListsRemovedUploads,

    /// <summary>The listing throws UploadNotFoundException for an upload removed after the listing began.</summary>
    ListingFailsOnRemovedUpload,

    /// <summary>The listing never looks at its cancellation token.</summary>
    ListingIgnoresCancellation,

    /// <summary>The listing describes every upload with offset 0 (its stored description, without the derived offset).</summary>
    ListingReportsStaleOffset,

    /// <summary>The listing describes every upload without its expiry.</summary>
    ListingDropsExpiry,

    // Checksum

    /// <summary>DiscardFromAsync reports the old offset but leaves the bytes in place.</summary>
    DiscardDoesNotTruncate,

    /// <summary>DiscardFromAsync truncates one byte too many.</summary>
    DiscardOffByOne,

    /// <summary>DiscardFromAsync returns the upload as it was passed in.</summary>
    DiscardReturnsStaleUpload,

    /// <summary>DiscardFromAsync re-creates the upload's description, losing its length, metadata and creation time.</summary>
    DiscardResetsDescription,

    /// <summary>AppendAsync catches the ChecksumMismatchException its body throws and returns normally, as if the body had
    /// ended, instead of letting it propagate.</summary>
    SwallowsChecksumMismatch,

    // Declarations

    /// <summary>The checksum capability is declared on the first read of the property and withdrawn afterwards.</summary>
    UnstableCapabilities,
}
