using System.Runtime.ExceptionServices;
using Amazon.S3;
using Amazon.S3.Model;
using Tus.Stores.Internal;

namespace Tus.Stores;

/// <content>Writing: appends cut into concurrently uploaded parts, assembly of the final object, truncation.</content>
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
    /// storage; each full part starts uploading while the next fills, up to
    /// <see cref="S3StoreOptions.MaxConcurrentPartUploads"/> at once. When the body ends, the multipart upload is completed
    /// (or, for a body that fits in one part, the object is written with one PUT). When the upload's last data object is
    /// smaller than <see cref="S3StoreOptions.MinPartSize"/>, it is read back and rewritten with the new bytes after it, so
    /// no piece but the last is ever below the minimum part size. The bytes become visible all at once when the object is
    /// completed.</para>
    /// <para>When <paramref name="data"/> throws, what it gave is still written, then the exception propagates. When the
    /// token fires, reading stops at once and what arrived is still written (the parts in flight, then the partly filled
    /// one), within a short grace time of its own; then the cancellation propagates. When S3 fails (or the grace time runs
    /// out), the multipart upload is aborted and nothing of this call is kept: the upload stays exactly as it was.</para>
    /// <para>When the append completes an upload made of several objects, they are assembled into the final object.</para>
    /// </remarks>
    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(data);
        var state = await StateOfAsync(upload, cancellationToken, forChange: true).ConfigureAwait(false);
        await DeleteGarbageAsync(state, cancellationToken).ConfigureAwait(false);

        var offset = state.Offset;
        Segment? joined = state.Segments.Count > 0 && state.Segments[^1].Size < _options.MinPartSize ? state.Segments[^1] : null;
        var start = joined?.Start ?? offset;
        var maxBytes = (state.Document.Length ?? _options.MaxObjectSize) - start;
        var sizing = PartSizing.For(_options.MinPartSize, _options.PreferredPartSize, _options.MaxPartSize, _options.MaxParts, Math.Max(maxBytes, 1));
        var key = SegmentKey(upload.Id, start);

        var written = await WriteSegmentAsync(upload.Id, state.Document, key, joined, data, sizing, cancellationToken).ConfigureAwait(false);
        if (written.Added > 0)
        {
            if (joined is not null)
            {
                state.Segments.RemoveAt(state.Segments.Count - 1);
            }

            state.Segments.Add(new Segment(start, written.Total, key));
        }

        if (written.Failure is { } failure)
        {
            failure.Throw();
        }

        if (written.Interrupted)
        {
            // What arrived is stored and counted in the state; the abandonment is reported as it came. When those bytes
            // happened to finish the upload, its final object is still assembled, on the same short clock.
            await AssembleAfterInterruptionAsync(upload.Id, state).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        await AssembleIfCompleteAsync(upload.Id, state, cancellationToken).ConfigureAwait(false);
        return written.Added;
    }

    private async Task AssembleAfterInterruptionAsync(string id, S3UploadState state)
    {
        if (state.Document.Length is not { } length || state.Offset != length)
        {
            return;
        }

        try
        {
            using var flush = new CancellationTokenSource(InterruptedFlushTimeout, _timeProvider);
            await AssembleIfCompleteAsync(id, state, flush.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The caller's cancellation is what gets reported; the pieces stay readable and complete.
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }

    private readonly record struct SegmentWrite(long Added, long Total, ExceptionDispatchInfo? Failure, bool Interrupted);

    /// <summary>Writes one data object at <paramref name="key"/>: the joined piece's bytes (when there is one), then the body's.</summary>
    /// <remarks>The body is read under <paramref name="cancellationToken"/>; S3 calls run under a token of their own that
    /// fires on a failure of this write or <see cref="InterruptedFlushTimeout"/> after <paramref name="cancellationToken"/>
    /// fired. So when the call is abandoned, reading stops at once, yet the parts in flight and the partly filled buffer
    /// still reach S3 (the protocol asks a server to keep what it received), within a bounded time.</remarks>
    private async Task<SegmentWrite> WriteSegmentAsync(string id, UploadInfoDocument document, string key, Segment? joined, Stream data, PartSizing sizing, CancellationToken cancellationToken)
    {
        using var failed = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);
        using var flushDeadline = cancellationToken.Register(static s => StartFlushDeadline((CancellationTokenSource)s!), failed);
        using var concurrency = new SemaphoreSlim(_options.MaxConcurrentPartUploads);
        var uploads = new List<Task<PartETag>>();
        string? multipartId = null;
        PartBuffer? buffer = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
        long added = 0;
        long total = 0;
        var interrupted = false;
        ExceptionDispatchInfo? dataFailure = null;
        try
        {
            if (joined is { } piece)
            {
                await ReadObjectIntoAsync(piece.Key, piece.Size, buffer, cancellationToken).ConfigureAwait(false);
            }

            var partNumber = 1;
            while (true)
            {
                var size = sizing.SizeOf(partNumber);
                var before = buffer.Length;
                try
                {
                    await buffer.FillAsync(data, size, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Abandoned: what arrived is still written (below), then the cancellation propagates.
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

                multipartId ??= await StartMultipartAsync(id, document, key, failed.Token).ConfigureAwait(false);
                await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                uploads.Add(UploadPartAsync(key, multipartId, partNumber, buffer, concurrency, failed));
                buffer = null;
                total += size;
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

            if (added == 0)
            {
                // Nothing new arrived: nothing is rewritten.
                await AbortAsync(key, multipartId, uploads).ConfigureAwait(false);
                return new SegmentWrite(0, 0, dataFailure, interrupted);
            }

            var rest = buffer?.Length ?? 0;
            total += rest;
            if (multipartId is null)
            {
                await PutDataAsync(id, key, buffer!.OpenRead(), document, failed.Token).ConfigureAwait(false);
            }
            else
            {
                if (rest > 0)
                {
                    await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                    uploads.Add(UploadPartAsync(key, multipartId, partNumber, buffer!, concurrency, failed));
                    buffer = null;
                }

                var parts = await Task.WhenAll(uploads).ConfigureAwait(false);
                await CompleteAsync(key, multipartId, parts, failed.Token).ConfigureAwait(false);
            }

            return new SegmentWrite(added, total, dataFailure, interrupted);
        }
        catch (Exception e)
        {
            await failed.CancelAsync().ConfigureAwait(false);
            await AbortAsync(key, multipartId, uploads).ConfigureAwait(false);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                // The flush ran out of time (or the joined piece could not be read): the caller's cancellation is what happened.
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

    private async Task CompleteAsync(string key, string multipartId, PartETag[] parts, CancellationToken cancellationToken)
    {
        Array.Sort(parts, static (a, b) => (a.PartNumber ?? 0).CompareTo(b.PartNumber ?? 0));
        var request = new CompleteMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = multipartId, PartETags = [.. parts] };

        // The answer's ETag may be empty (Ceph RGW): nothing here depends on it.
        await S3Async(static (s, r, ct) => s._client.CompleteMultipartUploadAsync(r, ct), request, "completing " + key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Aborts a multipart upload after a failure or cancellation, on a clock of its own, never throwing: the
    /// original failure is what the caller needs. (Terminating the upload aborts any that a crash left.)</summary>
    private async Task AbortAsync(string key, string? multipartId, List<Task<PartETag>> uploads)
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

    private Task PutDataAsync(string id, long start, Stream body, UploadInfoDocument document, CancellationToken cancellationToken) =>
        PutDataAsync(id, SegmentKey(id, start), body, document, cancellationToken);

    /// <summary>Reads the first <paramref name="length"/> bytes of an object into a part buffer.</summary>
    private async Task ReadObjectIntoAsync(string key, long length, PartBuffer buffer, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return;
        }

        var request = new GetObjectRequest { BucketName = _bucket, Key = key, ByteRange = new ByteRange(0, length - 1) };
        using var response = await S3Async(static (s, r, ct) => s._client.GetObjectAsync(r, ct), request, "reading " + key, cancellationToken).ConfigureAwait(false);
        var before = buffer.Length;
        await buffer.FillAsync(response.ResponseStream, before + length, cancellationToken).ConfigureAwait(false);
        _metrics.BytesReceived(buffer.Length - before);
        if (buffer.Length - before != length)
        {
            throw new InvalidDataException($"The object '{key}' holds {buffer.Length - before} bytes where {length} were expected: it was changed without the upload's lock.");
        }
    }

    /// <summary>When the upload is complete and held in more than its final object, assembles it there.</summary>
    private async Task AssembleIfCompleteAsync(string id, S3UploadState state, CancellationToken cancellationToken)
    {
        if (state.Document.Length is not { } length || state.Offset != length)
        {
            return;
        }

        var finalKey = DataKey(id);
        if (state.Segments.Count == 1 && string.Equals(state.Segments[0].Key, finalKey, StringComparison.Ordinal))
        {
            return;
        }

        var sources = state.Segments.Select(s => (s.Key, s.Size)).ToList();
        await AssembleAsync(id, state.Document, finalKey, sources, cancellationToken).ConfigureAwait(false);
        var leftovers = state.Segments.Where(s => !string.Equals(s.Key, finalKey, StringComparison.Ordinal)).Select(s => s.Key).ToList();
        state.Segments.Clear();
        state.Segments.Add(new Segment(0, length, finalKey));
        await DeleteKeysAsync(leftovers, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the first bytes of each source object, in order, as the object <paramref name="target"/> (which may be one
    /// of the sources): server-side part copies (ranged, at most <see cref="S3StoreOptions.MaxPartSize"/> each) for pieces
    /// of at least the minimum part size; smaller pieces are read and uploaded together with their neighbours' bytes, since
    /// S3 refuses parts below 5 MiB anywhere but last.
    /// </summary>
    internal async Task AssembleAsync(string id, UploadInfoDocument document, string target, IReadOnlyList<(string Key, long Size)> sources, CancellationToken cancellationToken)
    {
        var total = sources.Sum(s => s.Size);
        var minPart = _options.MinPartSize;
        if (total < minPart)
        {
            // Small: read it all and write it with one PUT.
            var small = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var (key, size) in sources)
                {
                    await ReadRangeIntoAsync(key, 0, size, small, cancellationToken).ConfigureAwait(false);
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
                var (key, size) = sources[i];
                long position = 0;
                if (pending is not null && size > 0)
                {
                    var take = Math.Min(size, minPart - pending.Length);
                    await ReadRangeIntoAsync(key, 0, take, pending, failed.Token).ConfigureAwait(false);
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
                        copies.Add(CopyPartAsync(key, from, to - from, target, multipartId, ++partNumber, concurrency, failed));
                    }
                }
                else
                {
                    pending ??= await _buffers.RentAsync(failed.Token).ConfigureAwait(false);
                    await ReadRangeIntoAsync(key, position, rest, pending, failed.Token).ConfigureAwait(false);
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

            await AbortAsync(target, multipartId, copies).ConfigureAwait(false);
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

    /// <summary>Rewrites a data object as its own first <paramref name="keep"/> bytes.</summary>
    private Task TruncateAsync(string id, UploadInfoDocument document, Segment segment, long keep, CancellationToken cancellationToken) =>
        AssembleAsync(id, document, segment.Key, [(segment.Key, keep)], cancellationToken);

    private async Task DeleteGarbageAsync(S3UploadState state, CancellationToken cancellationToken)
    {
        if (state.Garbage.Count > 0)
        {
            await DeleteKeysAsync(state.Garbage, cancellationToken).ConfigureAwait(false);
            state.Garbage.Clear();
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

    private static string Quoted(string? etag) =>
        string.IsNullOrEmpty(etag) || etag.StartsWith('"') ? etag ?? "" : "\"" + etag + "\"";
}
