using Tus.Conformance.Tests.Reference;

namespace Tus.Conformance.Tests.Defects;

/// <summary>
/// Which suite test each deliberately broken implementation must fail: the test aimed at its defect. Every test of every
/// suite is listed at least once, and every defect at least once, so each test is shown able to fail.
/// </summary>
internal static class DefectCatalog
{
    /// <summary>The defect of <see cref="UncoveredStoreFixture"/>: capabilities declared without their suites.</summary>
    public const string UncoveredCapabilities = "CapabilitySuitesNotSubclassed";

    public static IReadOnlyList<(Type Suite, string Test, string Defect)> Rows { get; } =
    [
        .. Store(typeof(ReferenceStoreTests), [
            ("CreateAsync_NewUpload_ReturnsItWithOffsetZero", StoreDefect.CreateReturnsNoLength),
            ("GetAsync_CreatedUpload_DescribesItAsCreated", StoreDefect.CreatedAtNotKept),
            ("GetAsync_UnknownId_ReturnsNull", StoreDefect.PhantomUploads),
            ("CreateAsync_ExistingId_ThrowsUploadAlreadyExists", StoreDefect.CreateOverwritesExisting),
            ("CreateAsync_ExistingId_LeavesTheExistingUploadUntouched", StoreDefect.CreateOverwritesExisting),
            ("CreateAsync_ZeroLength_IsCompleteAtOnce", StoreDefect.ZeroLengthStoredAsDeferred),
            ("CreateAsync_ParallelWithDistinctIds_AllSucceed", StoreDefect.CreateRejectsConcurrentCreates),
            ("CreateAsync_ParallelWithTheSameId_ExactlyOneSucceeds", StoreDefect.CreateRaceAllowsDuplicates),
            ("CreateAsync_ParallelWithTheSameId_ExactlyOneSucceeds", StoreDefect.CreateOverwritesExisting),
            ("Metadata_NonAsciiAndBinaryValues_RoundTripExactly", StoreDefect.MetadataAsText),
            ("Metadata_NonAsciiAndBinaryValues_RoundTripExactly", StoreDefect.MetadataUnordered),
            ("AppendAsync_ManyCallsAtIncreasingOffsets_AccumulatesInOrder", StoreDefect.OffByOneAppendCount),
            ("AppendAsync_EmptyStream_ReturnsZeroAndKeepsTheOffset", StoreDefect.EmptyAppendFails),
            ("AppendAsync_StreamEndingEarly_KeepsAndReportsWhatArrived", StoreDefect.DiscardsBodyThatEndsEarly),
            ("AppendAsync_StreamEndingEarly_KeepsAndReportsWhatArrived", StoreDefect.OffByOneAppendCount),
            ("AppendAsync_CancelledMidway_ReportsExactlyWhatItPersisted", StoreDefect.OffsetRecordedAfterSuccessOnly),
            ("AppendAsync_DifferentUploadsInParallel_EachKeepsItsOwnBytes", StoreDefect.SharedAppendBuffer),
            ("AppendAsync_LargeNonSeekableStream_StreamsWithBoundedMemory", StoreDefect.BuffersWholeBody),
            ("GetAsync_AfterAppends_KeepsLengthMetadataAndCreationTime", StoreDefect.AppendDropsMetadata),
            ("GetAsync_AfterAppends_KeepsLengthMetadataAndCreationTime", StoreDefect.MetadataAsText),
        ]),
        .. Store(typeof(ReferenceReadBackTests), [
            ("OpenReadAsync_WholeUpload_ReturnsEveryByte", StoreDefect.ReadDropsLastPartialBlock),
            ("OpenReadAsync_Ranges_ReturnExactlyTheirBytes", StoreDefect.ReadRangeOffByOne),
            ("OpenReadAsync_Ranges_ReturnExactlyTheirBytes", StoreDefect.ReadIgnoresLength),
            ("OpenReadAsync_Ranges_ReturnExactlyTheirBytes", StoreDefect.ReadDropsLastPartialBlock),
            ("OpenReadAsync_EmptyRange_ReturnsNoBytes", StoreDefect.ReadIgnoresLength),
            ("OpenReadAsync_UnfinishedUpload_ReadsTheStoredBytes", StoreDefect.ReadUnfinishedFails),
            ("OpenReadAsync_SmallReads_ReturnTheSameBytes", StoreDefect.ReadSkipsWhenBufferIsSmall),
            ("OpenReadAsync_TwoStreamsAtOnce_EachReturnTheirRange", StoreDefect.ReadStreamSharedPosition),
            ("OpenReadAsync_TwoStreamsAtOnce_EachReturnTheirRange", StoreDefect.ReadSkipsWhenBufferIsSmall),
        ]),
        .. Store(typeof(ReferenceTerminationTests), [
            ("DeleteAsync_ExistingUpload_MakesItGone", StoreDefect.DeleteOnlyData),
            ("DeleteAsync_Twice_SucceedsBothTimes", StoreDefect.DeleteNotIdempotent),
            ("DeleteAsync_UnknownId_Succeeds", StoreDefect.DeleteNotIdempotent),
            ("DeleteAsync_OneUpload_LeavesTheOthersUntouched", StoreDefect.DeleteRemovesAll),
            ("DeleteAsync_ThenCreateWithTheSameId_StartsEmpty", StoreDefect.DeleteKeepsData),
            ("DeleteAsync_ThenCreateWithTheSameId_StartsEmpty", StoreDefect.DeleteOnlyData),
        ]),
        .. Store(typeof(ReferenceConcatenationTests), [
            ("CreateAsync_PartialUpload_KeepsItsRole", StoreDefect.PartialRoleLost),
            ("CreateAsync_FinalUpload_KeepsItsPartialIdsInOrder", StoreDefect.FinalPartialIdsSorted),
            ("ConcatenateAsync_CompletePartials_WritesTheirDataInListedOrder", StoreDefect.ConcatenationInCreationOrder),
            ("ConcatenateAsync_FinalWithKnownLength_ReturnsItComplete", StoreDefect.ConcatenateReturnsStale),
            ("ConcatenateAsync_FinalCreatedBeforePartialsFinished_GetsTheirTotalLength", StoreDefect.FinalLengthNotRecorded),
            ("ConcatenateAsync_CompletePartials_LeavesThemIntact", StoreDefect.ConcatenationConsumesPartials),
            ("ConcatenateAsync_CompletePartials_LeavesThemIntact", StoreDefect.PartialRoleLost),
            ("ConcatenateAsync_EmptyPartial_ContributesNothing", StoreDefect.ConcatenationStopsAtEmptyPartial),
            ("ConcatenateAsync_CancelledToken_ThrowsAndLeavesTheFinalEmpty", StoreDefect.ConcatenationCancelLeavesData),
        ]),
        .. Store(typeof(ReferenceDeferredLengthTests), [
            ("CreateAsync_WithoutLength_DescribesTheLengthAsDeferred", StoreDefect.DeferredCreateStoresZero),
            ("AppendAsync_LengthDeferred_AcceptsBytes", StoreDefect.AppendRequiresLength),
            ("SetLengthAsync_DeferredUpload_RecordsTheLength", StoreDefect.DeferredLengthNotPersisted),
            ("SetLengthAsync_DeferredUpload_RecordsTheLength", StoreDefect.SetLengthResetsData),
            ("SetLengthAsync_EqualToTheOffset_CompletesTheUpload", StoreDefect.DeferredLengthNotPersisted),
            ("SetLengthAsync_ZeroOnAnEmptyUpload_CompletesIt", StoreDefect.DeferredLengthNotPersisted),
            ("SetLengthAsync_ThenAppend_CompletesAtTheLength", StoreDefect.DeferredLengthNotPersisted),
            ("SetLengthAsync_DeferredUpload_KeepsMetadataCreationTimeAndData", StoreDefect.SetLengthResetsData),
        ]),
        .. Store(typeof(ReferenceExpirationTests), [
            ("CreateAsync_WithExpiry_StampsIt", StoreDefect.ExpiryNotStamped),
            ("SetExpiryAsync_NewTime_MovesTheExpiry", StoreDefect.SetExpiryNotPersisted),
            ("SetExpiryAsync_NewTime_MovesTheExpiry", StoreDefect.SetExpiryReturnsStaleOffset),
            ("SetExpiryAsync_Null_ClearsTheExpiry", StoreDefect.SetExpiryNotPersisted),
            ("ListExpiredAsync_UnfinishedUploadsAtOrPastTheirExpiry_AreListed", StoreDefect.ExpiredListExcludesBoundary),
            ("ListExpiredAsync_UnfinishedUploadsAtOrPastTheirExpiry_AreListed", StoreDefect.ExpiredListReportsStaleOffset),
            ("ListExpiredAsync_UnfinishedUploadsAtOrPastTheirExpiry_AreListed", StoreDefect.ExpiryNotStamped),
            ("ListExpiredAsync_UploadsNotYetExpired_AreNotListed", StoreDefect.ExpiredListIncludesUploadsWithoutExpiry),
            ("ListExpiredAsync_CompleteUploads_AreNotListed", StoreDefect.ExpiredListIncludesComplete),
            ("ListExpiredAsync_AfterSetExpiry_FollowsTheNewExpiry", StoreDefect.SetExpiryNotPersisted),
            ("RemoveExpiredAsync_ExpiredUpload_MakesItGone", StoreDefect.RemoveExpiredRemovesAll),
            ("RemoveExpiredAsync_GoneOrUnknownUpload_Succeeds", StoreDefect.RemoveExpiredNotIdempotent),
        ]),
        .. Store(typeof(ReferenceChecksumTests), [
            ("DiscardFromAsync_AfterAnAppend_ReturnsTheUploadToThatOffset", StoreDefect.DiscardDoesNotTruncate),
            ("DiscardFromAsync_AfterAnAppend_ReturnsTheUploadToThatOffset", StoreDefect.DiscardOffByOne),
            ("DiscardFromAsync_AfterAnAppend_ReturnsTheUploadToThatOffset", StoreDefect.DiscardReturnsStaleUpload),
            ("DiscardFromAsync_ThenAppend_ContinuesFromThatOffset", StoreDefect.DiscardDoesNotTruncate),
            ("DiscardFromAsync_Zero_EmptiesTheUpload", StoreDefect.DiscardDoesNotTruncate),
            ("DiscardFromAsync_CompletedUpload_MakesItUnfinishedAgain", StoreDefect.DiscardReturnsStaleUpload),
            ("DiscardFromAsync_AnyOffset_KeepsLengthMetadataAndCreationTime", StoreDefect.DiscardResetsDescription),
        ]),
        .. Store(typeof(ReferenceProtocolTests), [
            ("Options_Extensions_MatchTheDeclaredCapabilities", StoreDefect.UnstableCapabilities),
            ("Post_WithMetadata_HeadDescribesTheNewUpload", StoreDefect.MetadataAsText),
            ("Patch_InChunks_CompletesTheUploadAndDownloadsWhole", StoreDefect.DiscardsBodyThatEndsEarly),
            ("Patch_InChunks_CompletesTheUploadAndDownloadsWhole", StoreDefect.SetExpiryReturnsStaleOffset),
            ("Post_WithBody_StoresTheFirstBytes", StoreDefect.OffByOneAppendCount),
            ("Patch_InterruptedMidway_KeepsWhatArrivedAndResumes", StoreDefect.DiscardsBodyThatEndsEarly),
            ("Patch_WrongOffset_Answers409AndKeepsTheUpload", StoreDefect.DiscardsBodyThatEndsEarly),
            ("Head_UnknownUpload_Answers404", StoreDefect.PhantomUploads),
            ("Patch_ParallelUploads_EachCompleteWithTheirOwnBytes", StoreDefect.SharedAppendBuffer),
            ("Get_WithRange_ReturnsExactlyThatRange", StoreDefect.ReadRangeOffByOne),
            ("Checksum_MatchingBodies_AreStored", StoreDefect.DiscardsBodyThatEndsEarly),
            ("Checksum_MismatchedBody_Answers460AndDiscardsItsBytes", StoreDefect.DiscardDoesNotTruncate),
            ("Concatenation_FinalOfFinishedPartials_HasTheirDataInListedOrder", StoreDefect.ConcatenationInCreationOrder),
            ("Concatenation_FinalOfFinishedPartials_HasTheirDataInListedOrder", StoreDefect.PartialRoleLost),
            ("Concatenation_FinalBeforePartialsFinish_CompletesOnceTheyDo", StoreDefect.ConcatenateReturnsStale),
            ("Delete_ExistingUpload_IsGoneAfterwards", StoreDefect.DeleteOnlyData),
            ("Expiration_UnfinishedUploadPastItsExpiry_AnswersGoneAndIsSwept", StoreDefect.ExpiryNotStamped),
            ("Expiration_CompleteUpload_IsNeverSwept", StoreDefect.RemoveExpiredRemovesAll),
            ("DeferredLength_LengthSentWithALaterPatch_CompletesTheUpload", StoreDefect.DeferredLengthNotPersisted),
            ("DeferredLength_LengthSentWithALaterPatch_CompletesTheUpload", StoreDefect.DeferredCreateStoresZero),
            ("DeferredLength_LengthSentWithALaterPatch_CompletesTheUpload", StoreDefect.AppendRequiresLength),
        ]),
        (typeof(UncoveredStoreCoverageTests), "Suites_ForEveryDeclaredCapability_AreSubclassed", UncoveredCapabilities),
        .. Locker(typeof(ReferenceLockerTests), [
            ("AcquireAsync_FreeUpload_GrantsTheLock", LockerDefect.ReleaseRequestedAtOnce),
            ("AcquireAsync_HeldUpload_WaitsUntilTheHolderReleases", LockerDefect.NoMutualExclusion),
            ("AcquireAsync_HeldUpload_WaitsUntilTheHolderReleases", LockerDefect.DisposeDoesNotRelease),
            ("AcquireAsync_DifferentUploads_DoNotWaitForEachOther", LockerDefect.GlobalLock),
            ("AcquireAsync_ManyContenders_NeverGrantsTwoHoldersAtOnce", LockerDefect.NoMutualExclusion),
            ("AcquireAsync_WhileHeld_RequestsReleaseFromTheHolder", LockerDefect.NeverRequestsRelease),
            ("ReleaseRequested_WithoutAWaiter_DoesNotFire", LockerDefect.ReleaseRequestedAtOnce),
            ("AcquireAsync_CancelledWhileWaiting_ThrowsAndHoldsNothing", LockerDefect.IgnoresCancellation),
            ("AcquireAsync_CancelledWhileWaiting_ThrowsAndHoldsNothing", LockerDefect.CancelledWaiterKeepsItsPlace),
            ("AcquireAsync_TokenAlreadyCancelled_ThrowsAndHoldsNothing", LockerDefect.IgnoresCancellation),
            ("AcquireAsync_TimeoutWhileHeld_EndsInTimeAndTheHolderKeepsTheLock", LockerDefect.IgnoresCancellation),
            ("AcquireAsync_TimeoutWhileHeld_EndsInTimeAndTheHolderKeepsTheLock", LockerDefect.CancelledWaiterKeepsItsPlace),
            ("DisposeAsync_HeldLock_ReleasesIt", LockerDefect.DisposeDoesNotRelease),
            ("DisposeAsync_Twice_DoesNotReleaseTheNextHolder", LockerDefect.DoubleDisposeReleasesAgain),
            ("AcquireAsync_GreedyHolder_DoesNotStarveAWaiter", LockerDefect.Barging),
            ("AcquireAsync_ManyWaiters_AreAllServedInTurn", LockerDefect.LosesWakeUps),
            ("Lost_ReleaseRequested_DoesNotFire", LockerDefect.LostIsReleaseRequested),
            ("Lost_ReleaseRequested_DoesNotFire", LockerDefect.NeverRequestsRelease),
        ]),
        .. Locker(typeof(LeasedReferenceLockerTests), [
            ("Lost_ForcedLeaseLoss_Fires", LockerDefect.LostNeverFires),
            ("AcquireAsync_HeldUpload_WaitsUntilTheHolderReleases", LockerDefect.NoMutualExclusion),
            ("AcquireAsync_WhileHeld_RequestsReleaseFromTheHolder", LockerDefect.NeverRequestsRelease),
        ]),
    ];

    private static IEnumerable<(Type, string, string)> Store(Type suite, (string Test, StoreDefect Defect)[] rows) =>
        rows.Select(r => (suite, r.Test, r.Defect.ToString()));

    private static IEnumerable<(Type, string, string)> Locker(Type suite, (string Test, LockerDefect Defect)[] rows) =>
        rows.Select(r => (suite, r.Test, r.Defect.ToString()));
}
