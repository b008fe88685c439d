using System.Runtime.ExceptionServices;
using Amazon.S3;
using Amazon.S3.Model;
using Tus.Protocol;
using Tus.Stores.Internal;

namespace Tus.Stores;

/// <content>Writing: appends cut into concurrently uploaded parts, commit records, completion, and assembly from ranges (concatenation, left-over parts).</content>
public sealed partial class S3Store
{
    /// <summary>How long clean-up after a cancelled or failed write (aborting its multipart upload) may take.</summary>
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long an abandoned write may still take to store the bytes it received before it was abandoned.</summary>
    /// <remarks>Short: the token fires when the host stops after its grace period, when S3 made no progress for the
    /// store-call timeout, or when the upload's lease was lost (another holder may write soon).</remarks>
    internal static readonly TimeSpan InterruptedFlushTimeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    /// <remarks>
    /// <para>The body is cut into parts (see <see cref="S3StoreOptions.PreferredPartSize"/>) buffered in bounded temporary
    /// storage; each full part is uploaded to the upload's multipart upload while the next fills, up to
    /// <see cref="S3StoreOptions.MaxConcurrentPartUploads"/> at once. The bytes kept from the last request (fewer than
    /// <see cref="S3StoreOptions.MinPartSize"/>) go first. When the body ends, what is left becomes a part of its own when
    /// it is large enough, else the content of the new commit record, written last: the bytes count from then on. When the
    /// upload is complete, the multipart upload is completed instead (an upload whose bytes fit in one part is written with
    /// one PUT, no multipart upload).</para>
    /// <para>When <paramref name="data"/> throws, what it gave is still stored, then the exception propagates; when it
    /// throws <see cref="ChecksumMismatchException"/>, nothing of this call is committed. When the token fires, reading
    /// stops at once and what arrived is still stored (the parts in flight, then the rest), within a short grace time of
    /// its own; then the cancellation propagates. When S3 fails (or the grace time runs out), nothing of this call is
    /// committed: the upload stays exactly as it was.</para>
    /// </remarks>
    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(data);
        UploadId.ThrowIfInvalid(upload.Id, nameof(upload));

        // Given carried state, the check that the upload was not removed since runs while the first part fills, and is
        // awaited before anything is written.
        var carried = CarriedState(upload);
        var state = carried ?? await LookupAsync(upload.Id, cancellationToken).ConfigureAwait(false) ?? throw new UploadNotFoundException(upload.Id);
        if (state.FinalSize is not null)
        {
            // Finished: the engine gives no byte more (its body is capped at the remaining bytes).
            if (carried is not null)
            {
                await EnsureExistsAsync(upload.Id, cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }

        var written = await WritePartsAsync(upload.Id, state, checkExistence: carried is not null, data, cancellationToken).ConfigureAwait(false);
        if (written.Failure is { } failure)
        {
            failure.Throw();
        }

        if (written.Interrupted)
        {
            // What arrived is stored and counted in the state; the abandonment is reported as it came.
            cancellationToken.ThrowIfCancellationRequested();
        }

        return written.Added;
    }

    private readonly record struct PartsWrite(long Added, ExceptionDispatchInfo? Failure, bool Interrupted);

    /// <summary>Uploads the kept bytes and the body's as the next parts of the upload, then commits them: a new record,
    /// or the completed multipart upload when they finish the upload.</summary>
    /// <remarks>The body is read under <paramref name="cancellationToken"/>; S3 calls run under a token of their own that
    /// fires on a failure of this write or <see cref="InterruptedFlushTimeout"/> after <paramref name="cancellationToken"/>
    /// fired. So when the call is abandoned, reading stops at once, yet the parts in flight and the rest still reach S3
    /// (the protocol asks a server to keep what it received), within a bounded time.</remarks>
    private async Task<PartsWrite> WritePartsAsync(string id, S3UploadState state, bool checkExistence, Stream data, CancellationToken cancellationToken)
    {
        using var failed = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);
        using var flushDeadline = cancellationToken.Register(static s => StartFlushDeadline((CancellationTokenSource)s!), failed);
        using var concurrency = new SemaphoreSlim(_options.MaxConcurrentPartUploads);

        var existence = Task.CompletedTask;
        var uploads = new List<Task<PartETag>>();
        var current = state.Current;
        var partsBefore = current?.Parts ?? 0;
        var partBytesBefore = current?.PartBytes ?? 0;
        var length = state.Document.Length;
        var sizing = PartSizing.For(_options.MinPartSize, _options.PreferredPartSize, _options.MaxPartSize, _options.MaxParts, Math.Max(length ?? _options.MaxObjectSize, 1));
        var multipartId = state.Document.MultipartUploadId;
        var startedMultipart = false;
        PartBuffer? buffer = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
        long added = 0;
        long newPartBytes = 0;
        var partNumber = partsBefore + 1;
        var interrupted = false;
        ExceptionDispatchInfo? dataFailure = null;
        try
        {
            if (checkExistence)
            {
                // On the write's own clock, like the S3 calls: an abandoned write still stores what arrived.
                existence = EnsureExistsAsync(id, failed.Token);
            }

            if (current is { Size: > 0 } kept)
            {
                await ReadRangeIntoAsync(kept.Key, 0, kept.Size, buffer, cancellationToken).ConfigureAwait(false);
            }

            while (true)
            {
                var size = Math.Max(sizing.SizeOf(partNumber), buffer.Length);
                var before = buffer.Length;
                try
                {
                    await buffer.FillAsync(data, size, cancellationToken).ConfigureAwait(false);
                }
                catch (ChecksumMismatchException)
                {
                    // The body failed its verification: none of it is committed, and the parts uploaded for it are
                    // uploaded over by the next request.
                    throw;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Abandoned: what arrived is still stored (below), then the cancellation propagates.
                    interrupted = true;
                }
                catch (Exception e)
                {
                    // The body broke: what it gave is kept, then the failure is reported.
                    dataFailure = ExceptionDispatchInfo.Capture(e);
                }

                // Counted from the buffer, so bytes read before a failure count too.
                added += buffer.Length - before;
                if (buffer.Length < size || interrupted || dataFailure is not null)
                {
                    break;
                }

                if (length is { } full && partBytesBefore + newPartBytes + buffer.Length == full)
                {
                    // The last bytes of the upload: uploaded below, with the completion.
                    break;
                }

                await existence.ConfigureAwait(false);
                if (multipartId is null)
                {
                    multipartId = await StartMultipartAsync(id, state.Document, DataKey(id), failed.Token).ConfigureAwait(false);
                    startedMultipart = true;
                }

                ThrowIfTooManyParts(id, partNumber);
                await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                newPartBytes += buffer.Length;
                uploads.Add(UploadPartAsync(DataKey(id), multipartId, partNumber, buffer, concurrency, failed));
                buffer = null;
                partNumber++;
                try
                {
                    buffer = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    interrupted = true;
                    break;
                }
            }

            await existence.ConfigureAwait(false);
            if (added == 0)
            {
                // Nothing new arrived: nothing is rewritten.
                await AbandonAsync(DataKey(id), startedMultipart ? multipartId : null, uploads).ConfigureAwait(false);
                return new PartsWrite(0, dataFailure, interrupted);
            }

            var rest = buffer?.Length ?? 0;
            var offset = partBytesBefore + newPartBytes + rest;
            if (length is { } total && offset == total)
            {
                if (multipartId is null)
                {
                    await PutDataAsync(id, DataKey(id), buffer!.OpenRead(), state.Document, failed.Token).ConfigureAwait(false);
                }
                else
                {
                    // The last part is uploaded once the part numbers in use are known (see CompleteMultipartAsync).
                    var last = rest > 0 ? buffer : null;
                    if (last is not null)
                    {
                        buffer = null;
                    }

                    try
                    {
                        await CompleteMultipartAsync(
                            id,
                            state.Document,
                            multipartId,
                            partsBefore,
                            uploads,
                            last is null ? null : async number =>
                            {
                                await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                                var part = last;
                                last = null;
                                return await UploadPartAsync(DataKey(id), multipartId, number, part, concurrency, failed).ConfigureAwait(false);
                            },
                            total,
                            failed.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        if (last is not null)
                        {
                            _buffers.Return(last);
                        }
                    }
                }

                var leftovers = state.Records.Select(r => r.Key).ToList();
                state.FinalSize = total;
                state.Records.Clear();
                await DeleteQuietlyAsync(leftovers).ConfigureAwait(false);
                return new PartsWrite(added, dataFailure, interrupted);
            }

            if (rest >= _options.MinPartSize)
            {
                if (multipartId is null)
                {
                    multipartId = await StartMultipartAsync(id, state.Document, DataKey(id), failed.Token).ConfigureAwait(false);
                    startedMultipart = true;
                }

                ThrowIfTooManyParts(id, partNumber);
                await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                newPartBytes += rest;
                uploads.Add(UploadPartAsync(DataKey(id), multipartId, partNumber, buffer!, concurrency, failed));
                buffer = null;
                partNumber++;
            }

            await Task.WhenAll(uploads).ConfigureAwait(false);
            if (startedMultipart)
            {
                // Later requests find the multipart upload through the info; written before the record that counts its parts.
                state.Document = state.Document with { MultipartUploadId = multipartId };
                await WriteInfoAsync(id, state.Document, failed.Token).ConfigureAwait(false);
                startedMultipart = false;
            }

            await CommitAsync(id, state, partNumber - 1, partBytesBefore + newPartBytes, buffer, failed.Token).ConfigureAwait(false);
            return new PartsWrite(added, dataFailure, interrupted);
        }
        catch (Exception e)
        {
            // The check's answer first: cancelling the write's clock would cancel the check with it.
            var gone = e is UploadNotFoundException ? null : await GoneAsync(existence).ConfigureAwait(false);
            await failed.CancelAsync().ConfigureAwait(false);
            await AbandonAsync(DataKey(id), startedMultipart ? multipartId : null, uploads).ConfigureAwait(false);
            if (gone is not null)
            {
                // Removed meanwhile: that is the answer, whatever else failed.
                throw gone;
            }

            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                // The flush ran out of time (or the kept bytes could not be read): the caller's cancellation is what happened.
                throw new OperationCanceledException(e.Message, e, cancellationToken);
            }

            throw;
        }
        finally
        {
            if (buffer is not null)
            {
                _buffers.Return(buffer);
            }
        }
    }

    /// <summary>Writes the upload's next commit record (its content is <paramref name="kept"/>'s bytes, or none) while it
    /// deletes the records before the one it replaces (kept: the last append can be taken back to it).</summary>
    private async Task CommitAsync(string id, S3UploadState state, int parts, long partBytes, PartBuffer? kept, CancellationToken cancellationToken)
    {
        var generation = state.NextGeneration;
        var key = TailRecord.KeyOf(DataKey(id), generation, parts, partBytes);
        var size = kept?.Length ?? 0;

        // The records before the current one serve no discard once the new one exists, and none before it is written
        // (the engine takes back only an append that returned): deleted at the same time, saving a round trip per request.
        var stale = state.Records.Take(Math.Max(0, state.Records.Count - 1)).Select(r => r.Key).ToList();
        var deletion = DeleteQuietlyAsync(stale);
        await PutDataAsync(id, key, kept is null ? new MemoryStream() : kept.OpenRead(), state.Document, cancellationToken).ConfigureAwait(false);
        await deletion.ConfigureAwait(false);
        state.Records.RemoveRange(0, stale.Count);
        state.Records.Add(new TailRecord(generation, parts, partBytes, size, key));
    }

    /// <summary>Finishes an upload whose length was just set to its offset: completes its multipart upload with the kept
    /// bytes copied in as the last part, or writes the kept bytes as the final object when it has no part.</summary>
    private async Task CompleteFromRecordAsync(string id, S3UploadState state, CancellationToken cancellationToken)
    {
        var finalKey = DataKey(id);
        var record = state.Current;
        var multipartId = state.Document.MultipartUploadId;
        if (record is { Parts: > 0 } && multipartId is not null)
        {
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var concurrency = new SemaphoreSlim(1);
            var kept = record.Value;
            Func<int, Task<PartETag>>? copyKept = kept.Size == 0 ? null : async number =>
            {
                await concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
                return await CopyPartAsync(kept.Key, 0, kept.Size, finalKey, multipartId, number, concurrency, failed).ConfigureAwait(false);
            };
            await CompleteMultipartAsync(id, state.Document, multipartId, kept.Parts, [], copyKept, state.Offset, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var buffer = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (record is { Size: > 0 } kept)
                {
                    await ReadRangeIntoAsync(kept.Key, 0, kept.Size, buffer, cancellationToken).ConfigureAwait(false);
                }

                await PutDataAsync(id, finalKey, buffer.OpenRead(), state.Document, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _buffers.Return(buffer);
            }

            if (multipartId is not null)
            {
                // Its parts were all taken back: nothing of it is part of the upload.
                await AbandonAsync(finalKey, multipartId, []).ConfigureAwait(false);
            }
        }

        var leftovers = state.Records.Select(r => r.Key).ToList();
        state.FinalSize = state.Offset;
        state.Records.Clear();
        await DeleteQuietlyAsync(leftovers).ConfigureAwait(false);
    }

    private void ThrowIfTooManyParts(string id, int partNumber)
    {
        if (partNumber > _options.MaxParts)
        {
            throw new TusStoreException(
                TusError.MaxSizeExceeded,
                $"Upload '{id}' would need more than {_options.MaxParts} parts: send it in larger requests.");
        }
    }

    /// <summary>The upload's removal, when the existence check found it; any other outcome of the check is left to the
    /// failure being reported.</summary>
    private static async Task<UploadNotFoundException?> GoneAsync(Task existence)
    {
        try
        {
            await existence.ConfigureAwait(false);
            return null;
        }
        catch (UploadNotFoundException e)
        {
            return e;
        }
#pragma warning disable CA1031 // A check that failed otherwise: the caller reports its own failure.
        catch (Exception)
        {
            return null;
        }
#pragma warning restore CA1031
    }

    private static void StartFlushDeadline(CancellationTokenSource failed)
    {
        try
        {
            failed.CancelAfter(InterruptedFlushTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The write ended meanwhile.
        }
    }

    private async Task<string> StartMultipartAsync(string id, UploadInfoDocument document, string key, CancellationToken cancellationToken)
    {
        var request = new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key };
        if (string.Equals(key, DataKey(id), StringComparison.Ordinal))
        {
            var metadata = document.ReadMetadata(InfoKey(id));
            request.ContentType = ObjectHeaders.ContentType(metadata);
            ObjectHeaders.Apply(metadata, request.Metadata);
        }

        var response = await S3Async(static (s, r, ct) => s._client.InitiateMultipartUploadAsync(r, ct), request, "starting a multipart upload of " + key, cancellationToken).ConfigureAwait(false);
        return response.UploadId;
    }

    /// <summary>Uploads one buffered part, then gives the buffer back and frees a concurrency slot. A failure cancels the
    /// other parts of the same write.</summary>
    private async Task<PartETag> UploadPartAsync(string key, string multipartId, int partNumber, PartBuffer buffer, SemaphoreSlim concurrency, CancellationTokenSource failed)
    {
        try
        {
            await Task.Yield();
            var request = new UploadPartRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = multipartId,
                PartNumber = partNumber,
                InputStream = buffer.OpenRead(),
                PartSize = buffer.Length,
                UseChunkEncoding = _options.UseChunkEncoding,
                DisablePayloadSigning = _unsignedPayload,
            };
            var started = _timeProvider.GetTimestamp();
            UploadPartResponse response;
            try
            {
                response = await S3Async(static (s, r, ct) => s._client.UploadPartAsync(r, ct), request, $"uploading part {partNumber} of {key}", failed.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _metrics.PartWritten("UploadPart", _timeProvider.GetElapsedTime(started), 0, e);
                throw;
            }

            _metrics.PartWritten("UploadPart", _timeProvider.GetElapsedTime(started), request.PartSize ?? 0, null);
            return new PartETag(partNumber, Quoted(response.ETag));
        }
        catch
        {
            await failed.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _buffers.Return(buffer);
            concurrency.Release();
        }
    }

    /// <summary>
    /// Completes the upload's multipart upload, making the final object of <paramref name="total"/> bytes: parts 1 to
    /// <paramref name="committed"/> (their ETags listed from S3), the parts this call <paramref name="uploaded"/>, then the
    /// last one, which <paramref name="uploadLast"/> (when given) uploads under the part number it is handed.
    /// </summary>
    /// <remarks>
    /// Parts a crash, a failure or a checksum-failed body left beyond these make the multipart upload dirty: S3 ignores
    /// parts a completion does not name, but Ceph RGW refuses such a completion (InvalidPart). Then the last part goes
    /// after every left-over, the multipart upload is completed with all of them (small left-overs first overwritten with
    /// zeros to the minimum part size, since only the last part may be smaller), and the final object is rewritten as the
    /// ranges of the parts that belong to it, with server-side copies.
    /// </remarks>
    private async Task CompleteMultipartAsync(
        string id, UploadInfoDocument document, string multipartId, int committed, List<Task<PartETag>> uploaded,
        Func<int, Task<PartETag>>? uploadLast, long total, CancellationToken cancellationToken)
    {
        var key = DataKey(id);
        var good = new List<PartETag>(committed + uploaded.Count + 1);
        good.AddRange(await Task.WhenAll(uploaded).ConfigureAwait(false));
        var listed = await ListPartsAsync(key, multipartId, cancellationToken).ConfigureAwait(false);
        for (var number = 1; number <= committed; number++)
        {
            if (!listed.TryGetValue(number, out var part))
            {
                throw new InvalidDataException($"The multipart upload of '{key}' lacks part {number} of the {committed} its record counts: it was changed without the upload's lock.");
            }

            good.Add(new PartETag(number, part.ETag));
        }

        var goodNumbers = good.Select(p => p.PartNumber ?? 0).ToHashSet();
        var leftOvers = listed.Where(p => !goodNumbers.Contains(p.Key)).Select(p => p.Key).Order().ToList();
        var lastNumber = Math.Max(goodNumbers.Count == 0 ? 0 : goodNumbers.Max(), leftOvers.Count == 0 ? 0 : leftOvers[^1]) + 1;
        ThrowIfTooManyParts(id, lastNumber);
        if (uploadLast is not null)
        {
            good.Add(await uploadLast(lastNumber).ConfigureAwait(false));
        }

        good.Sort(static (a, b) => (a.PartNumber ?? 0).CompareTo(b.PartNumber ?? 0));
        if (leftOvers.Count == 0)
        {
            await CompleteAsync(key, multipartId, [.. good], cancellationToken).ConfigureAwait(false);
            return;
        }

        var sizes = listed.ToDictionary(p => p.Key, p => p.Value.Size);
        var all = new List<PartETag>(good);
        foreach (var number in leftOvers)
        {
            var etag = listed[number].ETag;
            if (sizes[number] < _options.MinPartSize)
            {
                var filler = await S3Async(
                    static (s, r, ct) => s._client.UploadPartAsync(r, ct),
                    new UploadPartRequest
                    {
                        BucketName = _bucket, Key = key, UploadId = multipartId, PartNumber = number, InputStream = new MemoryStream(new byte[checked((int)_options.MinPartSize)]),
                        PartSize = _options.MinPartSize, UseChunkEncoding = _options.UseChunkEncoding, DisablePayloadSigning = _unsignedPayload,
                    },
                    $"overwriting left-over part {number} of {key}",
                    cancellationToken).ConfigureAwait(false);
                etag = Quoted(filler.ETag);
                sizes[number] = _options.MinPartSize;
            }

            all.Add(new PartETag(number, etag));
        }

        all.Sort(static (a, b) => (a.PartNumber ?? 0).CompareTo(b.PartNumber ?? 0));
        await CompleteAsync(key, multipartId, [.. all], cancellationToken).ConfigureAwait(false);

        // The parts that belong to the upload, as ranges of the object just completed (the last one's size is the rest).
        var ranges = new List<(string Key, long From, long Size)>();
        long position = 0;
        long kept = 0;
        foreach (var part in all)
        {
            var number = part.PartNumber ?? 0;
            var size = sizes.TryGetValue(number, out var listedSize) && !(uploadLast is not null && number == lastNumber) ? listedSize : total - kept;
            if (goodNumbers.Contains(number) || (uploadLast is not null && number == lastNumber))
            {
                if (ranges.Count > 0 && ranges[^1].From + ranges[^1].Size == position)
                {
                    ranges[^1] = ranges[^1] with { Size = ranges[^1].Size + size };
                }
                else
                {
                    ranges.Add((key, position, size));
                }

                kept += size;
            }

            position += size;
        }

        await AssembleAsync(id, document, key, ranges, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every part of a multipart upload (listed page by page, 1,000 at a time), by number.</summary>
    private async Task<Dictionary<int, (string ETag, long Size)>> ListPartsAsync(string key, string multipartId, CancellationToken cancellationToken)
    {
        var found = new Dictionary<int, (string, long)>();
        var request = new ListPartsRequest { BucketName = _bucket, Key = key, UploadId = multipartId };
        while (true)
        {
            var response = await S3Async(static (s, r, ct) => s._client.ListPartsAsync(r, ct), request, "listing the parts of " + key, cancellationToken).ConfigureAwait(false);
            foreach (var part in response.Parts ?? [])
            {
                if (part.PartNumber is { } number)
                {
                    found[number] = (Quoted(part.ETag), part.Size ?? 0);
                }
            }

            if (response.IsTruncated != true || response.NextPartNumberMarker is not { } next)
            {
                return found;
            }

            request.PartNumberMarker = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private async Task CompleteAsync(string key, string multipartId, PartETag[] parts, CancellationToken cancellationToken)
    {
        Array.Sort(parts, static (a, b) => (a.PartNumber ?? 0).CompareTo(b.PartNumber ?? 0));
        var request = new CompleteMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = multipartId, PartETags = [.. parts] };

        // The answer's ETag may be empty (Ceph RGW): nothing here depends on it.
        await S3Async(static (s, r, ct) => s._client.CompleteMultipartUploadAsync(r, ct), request, "completing " + key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After a failure or cancellation, waits for the parts in flight and aborts <paramref name="multipartId"/>
    /// when one is given (one this call started), on a clock of its own, never throwing: the original failure is what the
    /// caller needs. (Terminating the upload aborts any that a crash left.)</summary>
    private async Task AbandonAsync(string key, string? multipartId, List<Task<PartETag>> uploads)
    {
        try
        {
            await Task.WhenAll(uploads).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Clean-up: failures of the parts are reported through the caller's exception.
        catch (Exception)
        {
        }

        if (multipartId is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(CleanupTimeout);
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = multipartId }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // NoSuchUpload/NoSuchKey (gone already), or S3 unreachable: the multipart upload is aborted with the upload.
        }
#pragma warning restore CA1031
    }

    /// <summary>Writes a whole data object with one PUT: the final object's headers when it is the upload's first.</summary>
    private async Task PutDataAsync(string id, string key, Stream body, UploadInfoDocument document, CancellationToken cancellationToken)
    {
        var request = PutRequest(key, body, "application/octet-stream", ifNoneMatch: false);
        if (string.Equals(key, DataKey(id), StringComparison.Ordinal))
        {
            var metadata = document.ReadMetadata(InfoKey(id));
            request.ContentType = ObjectHeaders.ContentType(metadata);
            ObjectHeaders.Apply(metadata, request.Metadata);
        }

        var length = body.Length; // the request closes the body
        var started = _timeProvider.GetTimestamp();
        try
        {
            await S3Async(static (s, r, ct) => s._client.PutObjectAsync(r, ct), request, "writing " + key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _metrics.PartWritten("PutObject", _timeProvider.GetElapsedTime(started), 0, e);
            throw;
        }

        _metrics.PartWritten("PutObject", _timeProvider.GetElapsedTime(started), length, null);
    }

    /// <summary>
    /// Writes a range of each source object, in order, as the object <paramref name="target"/> (which may be one of the
    /// sources): server-side part copies (ranged, at most <see cref="S3StoreOptions.MaxPartSize"/> each) for pieces
    /// of at least the minimum part size; smaller pieces are read and uploaded together with their neighbours' bytes, since
    /// S3 refuses parts below 5 MiB anywhere but last.
    /// </summary>
    internal async Task AssembleAsync(string id, UploadInfoDocument document, string target, IReadOnlyList<(string Key, long From, long Size)> sources, CancellationToken cancellationToken)
    {
        var total = sources.Sum(s => s.Size);
        var minPart = _options.MinPartSize;
        if (total < minPart)
        {
            // Small: read it all and write it with one PUT.
            var small = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var (key, start, size) in sources)
                {
                    await ReadRangeIntoAsync(key, start, size, small, cancellationToken).ConfigureAwait(false);
                }

                await PutDataAsync(id, target, small.OpenRead(), document, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _buffers.Return(small);
            }

            return;
        }

        var multipartId = await StartMultipartAsync(id, document, target, cancellationToken).ConfigureAwait(false);
        var copies = new List<Task<PartETag>>();
        PartBuffer? pending = null;
        var partNumber = 0;
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var concurrency = new SemaphoreSlim(_options.MaxConcurrentPartUploads);
        try
        {
            var after = new long[sources.Count + 1];
            for (var i = sources.Count - 1; i >= 0; i--)
            {
                after[i] = after[i + 1] + sources[i].Size;
            }

            for (var i = 0; i < sources.Count; i++)
            {
                var (key, start, size) = sources[i];
                long position = 0;
                if (pending is not null && size > 0)
                {
                    var take = Math.Min(size, minPart - pending.Length);
                    await ReadRangeIntoAsync(key, start, take, pending, failed.Token).ConfigureAwait(false);
                    position = take;
                    if (pending.Length >= minPart)
                    {
                        await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                        copies.Add(UploadPartAsync(target, multipartId, ++partNumber, pending, concurrency, failed));
                        pending = null;
                    }
                }

                var rest = size - position;
                if (rest == 0)
                {
                    continue;
                }

                var isLast = after[i + 1] == 0;
                if (pending is null && (rest >= minPart || isLast))
                {
                    // Ranged server-side copies, each between the minimum and the maximum part size.
                    var count = (rest + _options.MaxPartSize - 1) / _options.MaxPartSize;
                    var each = (rest + count - 1) / count;
                    for (var from = position; from < size; from += each)
                    {
                        var to = Math.Min(size, from + each);
                        await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                        copies.Add(CopyPartAsync(key, start + from, to - from, target, multipartId, ++partNumber, concurrency, failed));
                    }
                }
                else
                {
                    pending ??= await _buffers.RentAsync(failed.Token).ConfigureAwait(false);
                    await ReadRangeIntoAsync(key, start + position, rest, pending, failed.Token).ConfigureAwait(false);
                    if (pending.Length >= minPart)
                    {
                        await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                        copies.Add(UploadPartAsync(target, multipartId, ++partNumber, pending, concurrency, failed));
                        pending = null;
                    }
                }
            }

            if (pending is not null)
            {
                await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                copies.Add(UploadPartAsync(target, multipartId, ++partNumber, pending, concurrency, failed));
                pending = null;
            }

            if (partNumber > _options.MaxParts)
            {
                throw new InvalidOperationException($"Assembling '{target}' needs {partNumber} parts, more than {_options.MaxParts}.");
            }

            var parts = await Task.WhenAll(copies).ConfigureAwait(false);
            await CompleteAsync(target, multipartId, parts, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await failed.CancelAsync().ConfigureAwait(false);
            if (pending is not null)
            {
                _buffers.Return(pending);
            }

            await AbandonAsync(target, multipartId, copies).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<PartETag> CopyPartAsync(string sourceKey, long from, long count, string target, string multipartId, int partNumber, SemaphoreSlim concurrency, CancellationTokenSource failed)
    {
        try
        {
            await Task.Yield();
            var request = new CopyPartRequest
            {
                SourceBucket = _bucket,
                SourceKey = sourceKey,
                DestinationBucket = _bucket,
                DestinationKey = target,
                UploadId = multipartId,
                PartNumber = partNumber,
                FirstByte = from,
                LastByte = from + count - 1,
            };
            var started = _timeProvider.GetTimestamp();
            CopyPartResponse response;
            try
            {
                response = await S3Async(static (s, r, ct) => s._client.CopyPartAsync(r, ct), request, $"copying {sourceKey} into part {partNumber} of {target}", failed.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _metrics.PartWritten("UploadPartCopy", _timeProvider.GetElapsedTime(started), 0, e);
                throw;
            }

            _metrics.PartWritten("UploadPartCopy", _timeProvider.GetElapsedTime(started), 0, null);

            // Some servers (Ceph RGW) answer UploadPartCopy with an unquoted ETag.
            return new PartETag(partNumber, Quoted(response.ETag));
        }
        catch
        {
            await failed.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            concurrency.Release();
        }
    }

    private async Task ReadRangeIntoAsync(string key, long from, long count, PartBuffer buffer, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }

        var request = new GetObjectRequest { BucketName = _bucket, Key = key, ByteRange = new ByteRange(from, from + count - 1) };
        using var response = await S3Async(static (s, r, ct) => s._client.GetObjectAsync(r, ct), request, "reading " + key, cancellationToken).ConfigureAwait(false);
        var before = buffer.Length;
        await buffer.FillAsync(response.ResponseStream, before + count, cancellationToken).ConfigureAwait(false);
        _metrics.BytesReceived(buffer.Length - before);
        if (buffer.Length - before != count)
        {
            throw new InvalidDataException($"The object '{key}' gave {buffer.Length - before} bytes of the {count} asked for at {from}: it was changed without the upload's lock.");
        }
    }

    /// <summary>Deletes objects, the last ones first (so an interrupted deletion of data objects leaves a contiguous prefix).</summary>
    internal async Task DeleteKeysAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        for (var end = keys.Count; end > 0; end -= 1000)
        {
            var begin = Math.Max(0, end - 1000);
            var request = new DeleteObjectsRequest { BucketName = _bucket, Quiet = true, Objects = [] };
            for (var i = end - 1; i >= begin; i--)
            {
                request.Objects.Add(new KeyVersion { Key = keys[i] });
            }

            var response = await S3Async(static (s, r, ct) => s._client.DeleteObjectsAsync(r, ct), request, "deleting objects", cancellationToken).ConfigureAwait(false);
            if (response.DeleteErrors is { Count: > 0 } errors && errors.Any(e => e.Code is not "NoSuchKey"))
            {
                throw new StoreUnavailableException($"S3 did not delete {errors.Count} objects, e.g. '{errors[0].Key}': {errors[0].Code}.");
            }
        }
    }

    /// <summary>Deletes left-overs that no lookup counts any more; a failure only leaves them for the next change or
    /// the upload's removal.</summary>
    private async Task DeleteQuietlyAsync(List<string> keys)
    {
        if (keys.Count == 0)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(CleanupTimeout, _timeProvider);
            await DeleteKeysAsync(keys, timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Clean-up of objects no lookup counts: the change itself succeeded.
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }

    private static string Quoted(string? etag) =>
        string.IsNullOrEmpty(etag) || etag.StartsWith('"') ? etag ?? "" : "\"" + etag + "\"";
}
