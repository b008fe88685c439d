using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;
using Tus.Protocol;
using Tus.Stores.Internal;

namespace Tus.Stores;

/// <content>The capabilities, implemented explicitly: reach them through <see cref="ITusStore"/>'s properties.</content>
public sealed partial class S3Store : ITusTerminationStore, ITusConcatenationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore, ITusListingStore
{
    /// <inheritdoc />
    /// <remarks>Aborts the upload's multipart uploads (its own, and any a crash left), deletes its final object and commit
    /// records, then its info.</remarks>
    ValueTask ITusTerminationStore.DeleteAsync(string uploadId, CancellationToken cancellationToken) => DeleteAsync(uploadId, cancellationToken);

    /// <inheritdoc />
    ValueTask ITusExpirationStore.RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken) => DeleteAsync(uploadId, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// The final object is assembled with server-side part copies (<c>UploadPartCopy</c>, ranged for partials larger than
    /// the maximum part size); partials smaller than the minimum part size are read and uploaded together with their
    /// neighbours' bytes. A cancelled concatenation aborts its multipart upload, leaving the final upload empty.
    /// </remarks>
    async ValueTask<UploadInfo> ITusConcatenationStore.ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(final);
        ArgumentNullException.ThrowIfNull(partials);
        if (final.Concatenation is not { IsFinal: true })
        {
            throw new ArgumentException($"Upload '{final.Id}' is not a final upload.", nameof(final));
        }

        if (partials.Count == 0)
        {
            throw new ArgumentException("A final upload needs at least one partial upload.", nameof(partials));
        }

        var state = await StateOfAsync(final, cancellationToken, forChange: true).ConfigureAwait(false);
        var sources = new List<(string Key, long From, long Size)>();
        long total = 0;
        for (var i = 0; i < partials.Count; i++)
        {
            var partial = partials[i] ?? throw new ArgumentException($"Partial upload {i} is null.", nameof(partials));
            if (string.Equals(partial.Id, final.Id, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Upload '{final.Id}' cannot be a partial upload of itself.", nameof(partials));
            }

            if (!partial.IsComplete)
            {
                throw new ArgumentException($"Partial upload '{partial.Id}' is not complete.", nameof(partials));
            }

            var partialState = await StateOfAsync(partial, cancellationToken).ConfigureAwait(false);
            if (partialState.FinalSize != partial.Length)
            {
                throw new InvalidOperationException($"Partial upload '{partial.Id}' holds {partialState.Offset} bytes in its final object, not its length {partial.Length}.");
            }

            sources.Add((DataKey(partial.Id), 0, partial.Length!.Value));
            total = checked(total + partial.Length!.Value);
        }

        if (state.Document.Length is { } declared && declared != total)
        {
            throw new InvalidOperationException($"Final upload '{final.Id}' declares {declared} bytes, but its partial uploads hold {total}.");
        }

        await AssembleAsync(final.Id, state.Document, DataKey(final.Id), sources, cancellationToken).ConfigureAwait(false);
        var leftovers = state.Records.Select(r => r.Key).ToList();
        state.FinalSize = total;
        state.Records.Clear();
        await DeleteQuietlyAsync(leftovers).ConfigureAwait(false);
        if (state.Document.Length is null)
        {
            state.Document = state.Document with { Length = total };
            await WriteInfoAsync(final.Id, state.Document, cancellationToken).ConfigureAwait(false);
        }

        return ToUploadInfo(final.Id, state);
    }

    /// <inheritdoc />
    /// <remarks>When the length equals the offset, the upload is complete: its multipart upload is completed with the
    /// kept bytes as its last part (server-side, <c>UploadPartCopy</c>), or, without one, the kept bytes are written as the
    /// final object.</remarks>
    async ValueTask<UploadInfo> ITusDeferredLengthStore.SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var state = await StateOfAsync(upload, cancellationToken, forChange: true).ConfigureAwait(false);
        if (length < state.Offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The length cannot be below the upload's offset {state.Offset}.");
        }

        if (state.Document.Length is { } existing)
        {
            return existing == length
                ? ToUploadInfo(upload.Id, state)
                : throw new InvalidOperationException($"Upload '{upload.Id}' has a length of {existing} already.");
        }

        state.Document = state.Document with { Length = length };
        await WriteInfoAsync(upload.Id, state.Document, cancellationToken).ConfigureAwait(false);
        if (length == state.Offset)
        {
            await CompleteFromRecordAsync(upload.Id, state, cancellationToken).ConfigureAwait(false);
        }

        return ToUploadInfo(upload.Id, state);
    }

    /// <inheritdoc />
    async ValueTask<UploadInfo> ITusExpirationStore.SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var state = await StateOfAsync(upload, cancellationToken, forChange: true).ConfigureAwait(false);
        state.Document = state.Document with { ExpiresAt = expiresAt };
        await WriteInfoAsync(upload.Id, state.Document, cancellationToken).ConfigureAwait(false);
        return ToUploadInfo(upload.Id, state);
    }

    /// <inheritdoc />
    /// <remarks>
    /// <para>Of an unfinished upload, the bytes of its last append (what the engine discards on a checksum mismatch) can be
    /// taken back, and any bytes kept in its commit record, by writing a new record with fewer bytes (the parts beyond it
    /// are then uploaded over); discarding from 0 always works. Other offsets lie in parts S3 cannot read back:
    /// <see cref="NotSupportedException"/>.</para>
    /// <para>A finished upload is made unfinished again: a new multipart upload gets the first bytes of the final object
    /// with server-side part copies, the rest goes into a new record, then the final object is deleted. (A crash before
    /// that deletion leaves the upload finished, with the bytes that were to be taken back.)</para>
    /// </remarks>
    /// <exception cref="NotSupportedException">The offset lies in parts of the multipart upload that no kept record covers.</exception>
    async ValueTask<UploadInfo> ITusChecksumStore.DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var state = await StateOfAsync(upload, cancellationToken, forChange: true).ConfigureAwait(false);
        if (offset > state.Offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The upload holds only {state.Offset} bytes.");
        }

        if (offset == state.Offset)
        {
            return ToUploadInfo(upload.Id, state);
        }

        if (state.FinalSize is not null)
        {
            await ReopenAsync(upload.Id, state, offset, cancellationToken).ConfigureAwait(false);
            return ToUploadInfo(upload.Id, state);
        }

        var from = state.Current is { } current && offset >= current.PartBytes ? current
            : state.Previous is { } previous && offset >= previous.PartBytes && offset <= previous.End ? previous
            : (TailRecord?)null;
        if (from is null && offset != 0)
        {
            throw new NotSupportedException($"Upload '{upload.Id}' cannot be returned to offset {offset}: the bytes before it are in parts of its multipart upload, which S3 cannot read back. Only the bytes of its last append can be taken back.");
        }

        var keep = offset - (from?.PartBytes ?? 0);
        var buffer = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (from is { } record)
            {
                await ReadRangeIntoAsync(record.Key, 0, keep, buffer, cancellationToken).ConfigureAwait(false);
            }

            var replaced = state.Records.Select(r => r.Key).ToList();
            await CommitAsync(upload.Id, state, from?.Parts ?? 0, from?.PartBytes ?? 0, buffer, cancellationToken).ConfigureAwait(false);

            // The records replaced hold bytes taken back: none may serve a later discard.
            state.Records.RemoveRange(0, state.Records.Count - 1);
            await DeleteQuietlyAsync(replaced).ConfigureAwait(false);
        }
        finally
        {
            _buffers.Return(buffer);
        }

        return ToUploadInfo(upload.Id, state);
    }

    /// <summary>Makes a finished upload unfinished at <paramref name="offset"/> (see DiscardFromAsync).</summary>
    private async Task ReopenAsync(string id, S3UploadState state, long offset, CancellationToken cancellationToken)
    {
        var finalKey = DataKey(id);
        var partSize = Math.Clamp(_options.PreferredPartSize, _options.MinPartSize, _options.MaxPartSize);
        var parts = (int)Math.Min(offset / partSize, _options.MaxParts - 1);
        var partBytes = parts * partSize;
        string? multipartId = null;
        if (parts > 0)
        {
            multipartId = await StartMultipartAsync(id, state.Document, finalKey, cancellationToken).ConfigureAwait(false);
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var concurrency = new SemaphoreSlim(_options.MaxConcurrentPartUploads);
            var copies = new List<Task<PartETag>>(parts);
            try
            {
                for (var number = 1; number <= parts; number++)
                {
                    var from = (number - 1) * partSize;
                    var count = number == parts ? partBytes - from : partSize;
                    await concurrency.WaitAsync(failed.Token).ConfigureAwait(false);
                    copies.Add(CopyPartAsync(finalKey, from, count, finalKey, multipartId, number, concurrency, failed));
                }

                await Task.WhenAll(copies).ConfigureAwait(false);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                await AbandonAsync(finalKey, multipartId, copies).ConfigureAwait(false);
                throw;
            }
        }

        var buffer = await _buffers.RentAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadRangeIntoAsync(finalKey, partBytes, offset - partBytes, buffer, cancellationToken).ConfigureAwait(false);
            state.Document = state.Document with { MultipartUploadId = multipartId };
            await WriteInfoAsync(id, state.Document, cancellationToken).ConfigureAwait(false);
            var replaced = state.Records.Select(r => r.Key).ToList();
            await CommitAsync(id, state, parts, partBytes, buffer, cancellationToken).ConfigureAwait(false);
            state.Records.RemoveRange(0, state.Records.Count - 1);
            await DeleteKeysAsync([finalKey], cancellationToken).ConfigureAwait(false);
            state.FinalSize = null;
            await DeleteQuietlyAsync(replaced).ConfigureAwait(false);
        }
        finally
        {
            _buffers.Return(buffer);
        }
    }

    /// <inheritdoc />
    /// <remarks>Lists the info objects under the metadata prefix, page by page, and looks each upload up; uploads that
    /// vanish meanwhile, or whose info is corrupt, are skipped.</remarks>
    async IAsyncEnumerable<UploadInfo> ITusListingStore.ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = _metadataPrefix };
        while (true)
        {
            var response = await S3Async(static (s, r, ct) => s.Client.ListObjectsV2Async(r, ct), request, "listing " + _metadataPrefix, cancellationToken).ConfigureAwait(false);
            foreach (var entry in response.S3Objects ?? [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                var key = entry.Key;
                if (!key.EndsWith(InfoSuffix, StringComparison.Ordinal) || key.Length <= _metadataPrefix.Length + InfoSuffix.Length)
                {
                    continue;
                }

                var id = key[_metadataPrefix.Length..^InfoSuffix.Length];
                if (!UploadId.IsValid(id))
                {
                    continue;
                }

                UploadInfo? upload;
                try
                {
                    upload = await GetAsync(id, cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidDataException)
                {
                    upload = null;
                }

                if (upload is not null)
                {
                    yield return upload;
                }
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    private async ValueTask DeleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        UploadId.ThrowIfInvalid(uploadId, nameof(uploadId));
        var baseKey = DataKey(uploadId);
        var data = ListDataAsync(uploadId, cancellationToken);
        var multipart = ListMultipartAsync(baseKey, cancellationToken);
        await Task.WhenAll(data, multipart).ConfigureAwait(false);
        foreach (var (key, multipartId) in await multipart.ConfigureAwait(false))
        {
            try
            {
                await S3Async(
                    static (s, r, ct) => s.Client.AbortMultipartUploadAsync(r, ct),
                    new AbortMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = multipartId },
                    "aborting a multipart upload of " + key,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (S3Errors.IsNotFound(e))
            {
                // Finished or aborted meanwhile (some servers say NoSuchKey for NoSuchUpload).
            }
        }

        var (finalSize, records) = await data.ConfigureAwait(false);
        var keys = records.Select(r => r.Key).ToList();
        if (finalSize is not null)
        {
            keys.Add(baseKey);
        }

        // The info last: an upload whose deletion is interrupted is still found, and deleted again.
        await DeleteKeysAsync(keys, cancellationToken).ConfigureAwait(false);
        await DeleteKeysAsync([InfoKey(uploadId)], cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<(string Key, string UploadId)>> ListMultipartAsync(string baseKey, CancellationToken cancellationToken)
    {
        var found = new List<(string, string)>();
        var request = new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = baseKey };
        while (true)
        {
            var response = await S3Async(static (s, r, ct) => s.Client.ListMultipartUploadsAsync(r, ct), request, "listing multipart uploads of " + baseKey, cancellationToken).ConfigureAwait(false);
            foreach (var upload in response.MultipartUploads ?? [])
            {
                if (string.Equals(upload.Key, baseKey, StringComparison.Ordinal))
                {
                    found.Add((upload.Key, upload.UploadId));
                }
            }

            if (response.IsTruncated != true)
            {
                return found;
            }

            request.KeyMarker = response.NextKeyMarker;
            request.UploadIdMarker = response.NextUploadIdMarker;
        }
    }
}
