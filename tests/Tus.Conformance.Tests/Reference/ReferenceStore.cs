using System.Buffers;
using System.Collections.ObjectModel;
using System.Runtime.CompilerServices;
using System.Text;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Conformance.Tests.Reference;

/// <summary>
/// A correct in-memory store with every capability (or none), written from the contracts' documentation, that can break
/// exactly one rule on request (<see cref="StoreDefect"/>). The offset is derived from the data held, never stored. Its
/// <see cref="UploadInfo.StoreState"/> carries the entry found in the lookup, so later calls of a request skip it.
/// </summary>
internal sealed class ReferenceStore :
    ITusStore, ITusTerminationStore, ITusConcatenationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore, ITusListingStore, IDisposable
{
    /// <summary>The listing's page size: the ListingDropsPageBoundary defect loses the first upload of every later page.</summary>
    private const int ListingPageSize = 128;

    private const int BlockSize = 64 * 1024;

    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _uploads;
    private readonly Dictionary<string, NativeBuffer> _orphans = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry> _tombstones = new(StringComparer.Ordinal);
    private readonly HashSet<string> _leftInExpiryIndex = new(StringComparer.Ordinal);
    private readonly byte[] _sharedBuffer = new byte[BlockSize];
    private readonly StoreDefect _defect;
    private readonly bool _capabilities;
    private long _sequence;
    private int _creating;
    private int _checksumReads;

    /// <summary>The entry being appended to, kept in the store instead of the call (the AppendTargetInSharedField defect).</summary>
    private Entry? _writing;

    public ReferenceStore(StoreDefect defect, bool capabilities = true)
    {
        _defect = defect;
        _capabilities = capabilities;

        // The IdsCaseInsensitive defect: ids looked up as a case-insensitive file system or key space would.
        _uploads = new(defect == StoreDefect.IdsCaseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
    }

    public ITusTerminationStore? Termination => _capabilities ? this : null;

    public ITusConcatenationStore? Concatenation => _capabilities ? this : null;

    public ITusDeferredLengthStore? DeferredLength => _capabilities ? this : null;

    public ITusExpirationStore? Expiration => _capabilities ? this : null;

    public ITusListingStore? Listing => _capabilities && _defect != StoreDefect.ExpirationWithoutListing ? this : null;

    public ITusChecksumStore? Checksum =>
        !_capabilities ? null
        : _defect == StoreDefect.UnstableCapabilities && Interlocked.Increment(ref _checksumReads) > 1 ? null
        : this;

    public async ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        UploadId.ThrowIfInvalid(upload.Id, nameof(upload));
        ThrowIfCancelled(cancellationToken);
        var info = Describe(upload);

        if (_defect == StoreDefect.CreateRaceAllowsDuplicates)
        {
            lock (_gate)
            {
                if (_uploads.ContainsKey(upload.Id))
                {
                    throw new UploadAlreadyExistsException(upload.Id);
                }
            }

            // A round trip to a backend between the check and the write.
            await Task.Delay(10, cancellationToken);
            lock (_gate)
            {
                _uploads[upload.Id] = NewEntry(info);
                return Describe(_uploads[upload.Id]);
            }
        }

        if (_defect == StoreDefect.CreateRejectsConcurrentCreates)
        {
            if (Interlocked.Exchange(ref _creating, 1) == 1)
            {
                throw new UploadAlreadyExistsException(upload.Id);
            }

            try
            {
                // A round trip to a backend while the flag is up.
                await Task.Delay(10, cancellationToken);
                return Insert(info);
            }
            finally
            {
                Volatile.Write(ref _creating, 0);
            }
        }

        var created = Insert(info);
        return _defect == StoreDefect.CreateReturnsNoLength ? created with { Length = null } : created;
    }

    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken)
    {
        UploadId.ThrowIfInvalid(uploadId, nameof(uploadId));
        ThrowIfCancelled(cancellationToken);
        lock (_gate)
        {
            if (_uploads.TryGetValue(uploadId, out var entry))
            {
                return ValueTask.FromResult<UploadInfo?>(Describe(entry));
            }
        }

        return ValueTask.FromResult(_defect == StoreDefect.PhantomUploads ? new UploadInfo { Id = uploadId } : null);
    }

    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(data);
        ThrowIfCancelled(cancellationToken);

        // The IgnoresCancellationToken defect reads the body without the token (and checks it nowhere).
        var readToken = _defect == StoreDefect.IgnoresCancellationToken ? CancellationToken.None : cancellationToken;
        var entry = Find(upload);
        var state = upload.StoreState as State;
        if (_defect == StoreDefect.StoreStateGoesStale && state is not null && state.Offset != upload.Offset)
        {
            throw new InvalidOperationException($"The store state of upload '{upload.Id}' is out of date: it was looked up at offset {state.Offset}, not {upload.Offset}.");
        }

        if (_defect == StoreDefect.AppendRequiresLength && upload.Length is null)
        {
            throw new InvalidOperationException("The upload's length must be known before data is appended.");
        }

        lock (_gate)
        {
            if (_defect != StoreDefect.OffsetRecordedAfterSuccessOnly && entry.Data.Length != upload.Offset)
            {
                throw new InvalidOperationException($"Upload '{upload.Id}' holds {entry.Data.Length} bytes but was passed with offset {upload.Offset}.");
            }
        }

        long written = 0;
        if (_defect == StoreDefect.BuffersWholeBody)
        {
            using var whole = new MemoryStream();
            await data.CopyToAsync(whole, readToken);
            lock (_gate)
            {
                entry.Data.Append(whole.GetBuffer().AsSpan(0, (int)whole.Length));
            }

            written = whole.Length;
        }
        else
        {
            var buffer = _defect == StoreDefect.SharedAppendBuffer ? _sharedBuffer : ArrayPool<byte>.Shared.Rent(BlockSize);
            try
            {
                int read;
                while (true)
                {
                    // A store checks its token at every step (an in-memory "write" has no I/O to pass it to).
                    ThrowIfCancelled(cancellationToken);
                    _writing = entry;
                    try
                    {
                        read = await ReadOrReserveAsync(entry, data, buffer, readToken);
                    }
                    catch (ChecksumMismatchException) when (_defect == StoreDefect.SwallowsChecksumMismatch)
                    {
                        read = 0;
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    var target = _defect == StoreDefect.AppendTargetInSharedField ? _writing : entry;
                    if (_defect == StoreDefect.SharedAppendBuffer)
                    {
                        // An asynchronous write to a backend, during which other appends reuse the buffer.
                        await Task.Delay(1, cancellationToken);
                    }

                    lock (_gate)
                    {
                        target.Data.Append(buffer.AsSpan(0, read));
                        if (_defect == StoreDefect.InfoSharesStorage)
                        {
                            target.LiveStorage["Bytes"] = target.Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        }
                    }

                    written += read;
                }
            }
            finally
            {
                if (buffer != _sharedBuffer)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }

        lock (_gate)
        {
            entry.RecordedOffset += written;
            if (state is not null && _defect != StoreDefect.StoreStateGoesStale)
            {
                // Kept in step in place, so the upload the engine derives with 'with { Offset = ... }' still matches it.
                state.Offset += written;
            }

            if (_defect == StoreDefect.DiscardsBodyThatEndsEarly && upload.Remaining is { } remaining && written < remaining)
            {
                entry.Data.Truncate(upload.Offset);
                return 0;
            }

            if (_defect == StoreDefect.AppendDropsMetadata)
            {
                entry.Info = entry.Info with { Metadata = UploadMetadata.Empty };
            }
        }

        if (_defect == StoreDefect.EmptyAppendFails && written == 0)
        {
            throw new InvalidOperationException("An empty part cannot be stored.");
        }

        return _defect == StoreDefect.OffByOneAppendCount && written > 0 ? written + 1 : written;
    }

    /// <summary>Reads the next block of the body. The AppendFailureOverReportsOffset defect reserves the whole block in the
    /// data before reading, and keeps it when the body fails.</summary>
    private async ValueTask<int> ReadOrReserveAsync(Entry entry, Stream data, byte[] buffer, CancellationToken cancellationToken)
    {
        if (_defect == StoreDefect.CancelDropsPartialBuffer)
        {
            // Fills the whole block before writing it; an interruption midway loses the part filled.
            var filled = 0;
            int read;
            while (filled < BlockSize && (read = await data.ReadAsync(buffer.AsMemory(filled, BlockSize - filled), cancellationToken)) > 0)
            {
                filled += read;
            }

            return filled;
        }

        try
        {
            return await data.ReadAsync(buffer.AsMemory(0, BlockSize), cancellationToken);
        }
        catch (Exception exception) when (_defect == StoreDefect.AppendFailureOverReportsOffset && exception is not OperationCanceledException)
        {
            lock (_gate)
            {
                entry.Data.Append(buffer.AsSpan(0, BlockSize));
            }

            throw;
        }
    }

    public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > upload.Offset - length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"The range [{offset}, {offset + length}) goes beyond the upload's offset {upload.Offset}.");
        }

        ThrowIfCancelled(cancellationToken);
        var entry = Find(upload);
        lock (_gate)
        {
            if (_defect == StoreDefect.ReadUnfinishedFails && !Describe(entry).IsComplete)
            {
                throw new NotSupportedException("Only complete uploads can be read.");
            }

            var available = entry.Data.Length;
            switch (_defect)
            {
                case StoreDefect.ReadRangeOffByOne when offset > 0:
                    offset++;
                    length = Math.Min(length, available - offset);
                    break;
                case StoreDefect.ReadIgnoresLength:
                    length = available - offset;
                    break;
                case StoreDefect.ReadDropsLastPartialBlock when length > BlockSize:
                    length -= length % BlockSize;
                    break;
            }
        }

        var position = _defect == StoreDefect.ReadStreamSharedPosition ? entry.SharedReadPosition : new StrongBox<long>();
        position.Value = offset;
        var openToken = _defect == StoreDefect.ReadStreamKeepsOpenToken ? cancellationToken : CancellationToken.None;
        return ValueTask.FromResult<Stream>(new RangeStream(this, entry, position, offset + length, _defect == StoreDefect.ReadSkipsWhenBufferIsSmall, openToken));
    }

    ValueTask ITusTerminationStore.DeleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        UploadId.ThrowIfInvalid(uploadId, nameof(uploadId));
        ThrowIfCancelled(cancellationToken);
        lock (_gate)
        {
            if (!_uploads.Remove(uploadId, out var entry))
            {
                return _defect == StoreDefect.DeleteNotIdempotent ? throw new UploadNotFoundException(uploadId) : ValueTask.CompletedTask;
            }

            switch (_defect)
            {
                case StoreDefect.DeleteOnlyData:
                    entry.Data.Truncate(0);
                    _uploads.Add(uploadId, entry);
                    break;
                case StoreDefect.DeleteKeepsData:
                    _orphans[uploadId] = entry.Data;
                    break;
                case StoreDefect.DeleteRemovesAll:
                    entry.Data.Dispose();
                    RemoveAll();
                    break;
                case StoreDefect.ListingListsRemovedUploads:
                    _tombstones[uploadId] = entry;
                    break;
                case StoreDefect.DeleteLeavesExpiryIndexEntry when entry.Info.ExpiresAt is not null:
                    // The data goes, the upload's entry in the index of expiring uploads stays (and is listed).
                    entry.Data.Truncate(0);
                    _tombstones[uploadId] = entry;
                    _leftInExpiryIndex.Add(uploadId);
                    break;
                default:
                    entry.Data.Dispose();
                    break;
            }
        }

        return ValueTask.CompletedTask;
    }

    async ValueTask<UploadInfo> ITusConcatenationStore.ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(final);
        ArgumentNullException.ThrowIfNull(partials);
        var target = Find(final);
        if (target.Info.Concatenation is not { IsFinal: true })
        {
            throw new ArgumentException($"Upload '{final.Id}' is not a final upload.", nameof(final));
        }

        if (_defect != StoreDefect.ConcatenationCancelLeavesData)
        {
            ThrowIfCancelled(cancellationToken);
        }

        var sources = partials.Select(p => (Info: p, Entry: Find(p))).ToList();
        if (_defect == StoreDefect.ConcatenationInCreationOrder)
        {
            sources = [.. sources.OrderBy(s => s.Entry.Sequence)];
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            lock (_gate)
            {
                target.Data.Truncate(0);
            }

            foreach (var (partial, source) in sources)
            {
                if (_defect != StoreDefect.ConcatenationCancelLeavesData)
                {
                    ThrowIfCancelled(cancellationToken);
                }

                if (!partial.IsComplete)
                {
                    throw new ArgumentException($"Partial upload '{partial.Id}' is not complete.", nameof(partials));
                }

                if (partial.Length == 0 && _defect == StoreDefect.ConcatenationStopsAtEmptyPartial)
                {
                    break;
                }

                // The ConcatenationReusesPartialCursor defect reads each partial through a cursor kept with it and never
                // moved back, so a second concatenation of the same partial starts at its end.
                var position = _defect == StoreDefect.ConcatenationReusesPartialCursor ? source.ConcatenationCursor : 0;
                for (; position < partial.Offset;)
                {
                    lock (_gate)
                    {
                        var read = source.Data.Read(position, buffer.AsSpan(0, (int)Math.Min(BlockSize, partial.Offset - position)));
                        target.Data.Append(buffer.AsSpan(0, read));
                        position += read;
                    }

                    await Task.Yield();
                }

                source.ConcatenationCursor = position;
                if (_defect == StoreDefect.ConcatenationCancelLeavesData)
                {
                    ThrowIfCancelled(cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (_defect != StoreDefect.ConcatenationCancelLeavesData)
        {
            lock (_gate)
            {
                target.Data.Truncate(0);
            }

            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        lock (_gate)
        {
            if (_defect != StoreDefect.FinalLengthNotRecorded)
            {
                target.Info = target.Info with { Length = target.Data.Length };
            }

            if (_defect == StoreDefect.ConcatenationConsumesPartials)
            {
                foreach (var (partial, source) in sources)
                {
                    _uploads.Remove(partial.Id);
                    source.Data.Dispose();
                }
            }

            return _defect == StoreDefect.ConcatenateReturnsStale ? final : Describe(target);
        }
    }

    ValueTask<UploadInfo> ITusDeferredLengthStore.SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ThrowIfCancelled(cancellationToken);
        var entry = Find(upload);
        lock (_gate)
        {
            if (entry.Info.Length is { } existing && existing != length)
            {
                throw new InvalidOperationException($"Upload '{upload.Id}' has a length of {existing} already.");
            }

            if (length < entry.Data.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(length), $"The length cannot be below the upload's offset {entry.Data.Length}.");
            }

            if (_defect == StoreDefect.DeferredLengthNotPersisted)
            {
                return ValueTask.FromResult(Describe(entry) with { Length = length });
            }

            if (_defect == StoreDefect.SetLengthResetsData)
            {
                entry.Data.Truncate(0);
            }

            entry.Info = entry.Info with { Length = length };
            return ValueTask.FromResult(Describe(entry));
        }
    }

    ValueTask<UploadInfo> ITusExpirationStore.SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ThrowIfCancelled(cancellationToken);
        var entry = Find(upload);
        lock (_gate)
        {
            if (_defect == StoreDefect.SetExpiryNotPersisted)
            {
                return ValueTask.FromResult(Describe(entry) with { ExpiresAt = expiresAt });
            }

            entry.Info = entry.Info with { ExpiresAt = expiresAt };
            return ValueTask.FromResult(_defect == StoreDefect.SetExpiryReturnsStaleOffset ? entry.Info : Describe(entry));
        }
    }

    async IAsyncEnumerable<UploadInfo> ITusListingStore.ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Pages of ids, each read when the listing reaches it: uploads come and go meanwhile.
        List<string> ids;
        lock (_gate)
        {
            ids = [.. _uploads.Values.Concat(_tombstones.Values).OrderBy(e => e.Sequence).Select(e => e.Info.Id)];
        }

        if (_defect == StoreDefect.ListingSkipsLastUpload && ids.Count > 0)
        {
            ids.RemoveAt(ids.Count - 1);
        }

        for (var i = 0; i < ids.Count; i++)
        {
            if (_defect != StoreDefect.ListingIgnoresCancellation)
            {
                ThrowIfCancelled(cancellationToken);
            }

            if (_defect == StoreDefect.ListingDropsPageBoundary && i > 0 && i % ListingPageSize == 0)
            {
                continue;
            }

            await Task.Yield();
            UploadInfo? upload;
            lock (_gate)
            {
                upload = _uploads.TryGetValue(ids[i], out var entry) || _tombstones.TryGetValue(ids[i], out entry) ? Describe(entry) : null;
            }

            if (upload is null)
            {
                // Gone since the listing began: skipped, as the contract asks (unless the defect says otherwise).
                if (_defect == StoreDefect.ListingFailsOnRemovedUpload)
                {
                    throw new UploadNotFoundException(ids[i]);
                }

                continue;
            }

            yield return _defect switch
            {
                StoreDefect.ListingReportsStaleOffset => upload with { Offset = 0 },
                StoreDefect.ListingDropsExpiry => upload with { ExpiresAt = null },
                _ => upload,
            };
        }

        if (_defect == StoreDefect.ListingListsItsOwnMarker)
        {
            yield return new UploadInfo { Id = "tus-store-marker", Length = 0, CreatedAt = DateTimeOffset.UnixEpoch };
        }
    }

    ValueTask ITusExpirationStore.RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken)
    {
        UploadId.ThrowIfInvalid(uploadId, nameof(uploadId));
        ThrowIfCancelled(cancellationToken);
        lock (_gate)
        {
            if (!_uploads.Remove(uploadId, out var entry))
            {
                if (_leftInExpiryIndex.Contains(uploadId))
                {
                    throw new InvalidOperationException($"The index lists upload '{uploadId}' as expiring, but its data is missing.");
                }

                return _defect == StoreDefect.RemoveExpiredNotIdempotent ? throw new UploadNotFoundException(uploadId) : ValueTask.CompletedTask;
            }

            if (_defect == StoreDefect.ListingListsRemovedUploads)
            {
                _tombstones[uploadId] = entry;
                return ValueTask.CompletedTask;
            }

            entry.Data.Dispose();
            if (_defect == StoreDefect.RemoveExpiredRemovesAll)
            {
                RemoveAll();
            }
        }

        return ValueTask.CompletedTask;
    }

    ValueTask<UploadInfo> ITusChecksumStore.DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ThrowIfCancelled(cancellationToken);
        var entry = Find(upload);
        lock (_gate)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, entry.Data.Length);
            switch (_defect)
            {
                case StoreDefect.DiscardDoesNotTruncate:
                    return ValueTask.FromResult(Describe(entry) with { Offset = offset });
                case StoreDefect.DiscardOffByOne:
                    entry.Data.Truncate(Math.Max(0, offset - 1));
                    break;
                case StoreDefect.DiscardResetsDescription:
                    entry.Data.Truncate(offset);
                    entry.Info = new UploadInfo { Id = upload.Id };
                    break;
                default:
                    entry.Data.Truncate(offset);
                    break;
            }

            return ValueTask.FromResult(_defect == StoreDefect.DiscardReturnsStaleUpload ? upload : Describe(entry));
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            RemoveAll();
            foreach (var orphan in _orphans.Values)
            {
                orphan.Dispose();
            }

            _orphans.Clear();
            foreach (var tombstone in _tombstones.Values)
            {
                tombstone.Data.Dispose();
            }

            _tombstones.Clear();
        }
    }

    private UploadInfo Describe(NewUpload upload)
    {
        var metadata = upload.Metadata;
        if (_defect == StoreDefect.MetadataAsText)
        {
            metadata = UploadMetadata.Create(metadata.Select(e => new KeyValuePair<string, ReadOnlyMemory<byte>>(e.Key, Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(e.Value.Span)))));
        }
        else if (_defect == StoreDefect.MetadataUnordered)
        {
            metadata = UploadMetadata.Create(metadata.OrderBy(e => e.Key, StringComparer.Ordinal));
        }

        var concatenation = upload.Concatenation;
        if (_defect == StoreDefect.PartialRoleLost && concatenation is { IsPartial: true })
        {
            concatenation = null;
        }
        else if (_defect == StoreDefect.FinalPartialIdsSorted && concatenation is { IsFinal: true } final)
        {
            concatenation = UploadConcatenation.Final([.. final.PartialIds.Order(StringComparer.Ordinal)]);
        }

        return new UploadInfo
        {
            Id = upload.Id,
            Length = _defect switch
            {
                StoreDefect.ZeroLengthStoredAsDeferred when upload.Length == 0 => null,
                StoreDefect.DeferredCreateStoresZero when upload.Length is null && upload.Concatenation is not { IsFinal: true } => 0,
                _ => upload.Length,
            },
            Metadata = metadata,
            Concatenation = concatenation,
            CreatedAt = _defect == StoreDefect.CreatedAtNotKept ? DateTimeOffset.UtcNow : upload.CreatedAt,
            ExpiresAt = _defect == StoreDefect.ExpiryNotStamped ? null : upload.ExpiresAt,
            Storage = new ReadOnlyDictionary<string, string>(new Dictionary<string, string> { ["Type"] = "memory" }),
        };
    }

    private UploadInfo Describe(Entry entry)
    {
        var offset = _defect == StoreDefect.OffsetRecordedAfterSuccessOnly ? entry.RecordedOffset : entry.Data.Length;
        var info = entry.Info with { Offset = offset, StoreState = new State(entry, offset) };
        return _defect == StoreDefect.InfoSharesStorage ? info with { Storage = entry.LiveStorage } : info;
    }

    private UploadInfo Insert(UploadInfo info)
    {
        lock (_gate)
        {
            if (_uploads.TryGetValue(info.Id, out var existing))
            {
                if (_defect != StoreDefect.CreateOverwritesExisting)
                {
                    throw new UploadAlreadyExistsException(info.Id);
                }

                existing.Data.Dispose();
            }

            var entry = NewEntry(info);
            _uploads[info.Id] = entry;
            return Describe(entry);
        }
    }

    private Entry NewEntry(UploadInfo info)
    {
        var data = _orphans.Remove(info.Id, out var orphan) ? orphan : new NativeBuffer();
        return new Entry(info, data, Interlocked.Increment(ref _sequence)) { RecordedOffset = data.Length };
    }

    /// <summary>The upload's entry: the one its store state carries when it is still the live one (no second lookup
    /// of the data), else the one the id finds.</summary>
    private Entry Find(UploadInfo upload)
    {
        if (upload.StoreState is not State state)
        {
            return Find(upload.Id);
        }

        lock (_gate)
        {
            // The StaleStateOutlivesDeletion defect trusts the state without asking whether the upload still exists.
            if (_defect == StoreDefect.StaleStateOutlivesDeletion || (_uploads.TryGetValue(upload.Id, out var live) && live == state.Entry))
            {
                return state.Entry;
            }
        }

        throw new UploadNotFoundException(upload.Id);
    }

    private Entry Find(string uploadId)
    {
        lock (_gate)
        {
            return _uploads.TryGetValue(uploadId, out var entry) ? entry
                : _defect == StoreDefect.MissingUploadWrongException ? throw new KeyNotFoundException($"The given key '{uploadId}' was not present in the dictionary.")
                : throw new UploadNotFoundException(uploadId);
        }
    }

    private void ThrowIfCancelled(CancellationToken cancellationToken)
    {
        if (_defect != StoreDefect.IgnoresCancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private void RemoveAll()
    {
        foreach (var entry in _uploads.Values)
        {
            entry.Data.Dispose();
        }

        _uploads.Clear();
    }

    /// <summary>What a lookup found, riding along in <see cref="UploadInfo.StoreState"/>: the entry, and the offset the
    /// store knows the upload at (kept in step by appends, in place).</summary>
    private sealed class State(Entry entry, long offset)
    {
        public Entry Entry { get; } = entry;

        public long Offset { get; set; } = offset;
    }

    private sealed class Entry(UploadInfo info, NativeBuffer data, long sequence)
    {
        public UploadInfo Info { get; set; } = info;

        public NativeBuffer Data { get; } = data;

        public long Sequence { get; } = sequence;

        public long RecordedOffset { get; set; }

        public StrongBox<long> SharedReadPosition { get; } = new();

        public long ConcatenationCursor { get; set; }

        /// <summary>The store's own description of where the upload lives, which the InfoSharesStorage defect hands out.</summary>
        public Dictionary<string, string> LiveStorage { get; } = new(StringComparer.Ordinal) { ["Type"] = "memory" };
    }

    /// <summary>Reads a range of an upload's data, one lock per read.</summary>
    private sealed class RangeStream(ReferenceStore store, Entry entry, StrongBox<long> position, long end, bool skipsWhenSmall, CancellationToken openToken) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            // The ReadStreamKeepsOpenToken defect: every read watches the token the stream was opened with.
            openToken.ThrowIfCancellationRequested();
            lock (store._gate)
            {
                var remaining = end - position.Value;
                if (remaining <= 0)
                {
                    return 0;
                }

                var read = entry.Data.Read(position.Value, buffer[..(int)Math.Min(buffer.Length, remaining)]);
                position.Value += skipsWhenSmall ? Math.Max(read, Math.Min(BlockSize, remaining)) : read;
                return read;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
