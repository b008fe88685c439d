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
    /// <remarks>Aborts the upload's unfinished multipart uploads (a crash can leave one), deletes its data objects, then its info.</remarks>
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
        var sources = new List<(string Key, long Size)>();
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
            if (partialState.Offset != partial.Length)
            {
                throw new InvalidOperationException($"Partial upload '{partial.Id}' holds {partialState.Offset} bytes, not its length {partial.Length}.");
            }

            sources.AddRange(partialState.Segments.Select(s => (s.Key, s.Size)));
            total = checked(total + partial.Length!.Value);
        }

        if (state.Document.Length is { } declared && declared != total)
        {
            throw new InvalidOperationException($"Final upload '{final.Id}' declares {declared} bytes, but its partial uploads hold {total}.");
        }

        await DeleteGarbageAsync(state, cancellationToken).ConfigureAwait(false);
        var finalKey = DataKey(final.Id);
        await AssembleAsync(final.Id, state.Document, finalKey, sources, cancellationToken).ConfigureAwait(false);
        var leftovers = state.Segments.Where(s => !string.Equals(s.Key, finalKey, StringComparison.Ordinal)).Select(s => s.Key).ToList();
        state.Segments.Clear();
        state.Segments.Add(new Segment(0, total, finalKey));
        await DeleteKeysAsync(leftovers, cancellationToken).ConfigureAwait(false);
        if (state.Document.Length is null)
        {
            state.Document = state.Document with { Length = total };
            await WriteInfoAsync(final.Id, state.Document, cancellationToken).ConfigureAwait(false);
        }

        return ToUploadInfo(final.Id, state);
    }

    /// <inheritdoc />
    /// <remarks>When the length equals the offset, the upload is complete and its data is assembled into the final object.</remarks>
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
        if (length == 0 && state.Segments.Count == 0)
        {
            await PutDataAsync(upload.Id, 0, new MemoryStream(), state.Document, cancellationToken).ConfigureAwait(false);
            state.Segments.Add(new Segment(0, 0, DataKey(upload.Id)));
        }

        await AssembleIfCompleteAsync(upload.Id, state, cancellationToken).ConfigureAwait(false);
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
    /// Deletes the data objects that start at or after <paramref name="offset"/> and rewrites the one it falls inside
    /// as its first bytes. After an append (what the engine discards on a checksum mismatch) that is cheap: the
    /// append's own object is deleted, and a piece it had joined (below the minimum part size) is written back.
    /// </remarks>
    async ValueTask<UploadInfo> ITusChecksumStore.DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var state = await StateOfAsync(upload, cancellationToken, forChange: true).ConfigureAwait(false);
        if (offset > state.Offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The upload holds only {state.Offset} bytes.");
        }

        await DeleteGarbageAsync(state, cancellationToken).ConfigureAwait(false);
        var doomed = state.Segments.Where(s => s.Start >= offset && s.Size > 0).Select(s => s.Key).ToList();
        if (offset == 0 && state.Segments.Count > 0 && state.Segments[0].Size == 0)
        {
            doomed.Add(state.Segments[0].Key);
        }

        await DeleteKeysAsync(doomed, cancellationToken).ConfigureAwait(false);
        state.Segments.RemoveAll(s => s.Start >= offset);
        if (state.Segments.Count > 0 && state.Segments[^1].End > offset)
        {
            var straddling = state.Segments[^1];
            var keep = offset - straddling.Start;
            await TruncateAsync(upload.Id, state.Document, straddling, keep, cancellationToken).ConfigureAwait(false);
            state.Segments[^1] = straddling with { Size = keep };
        }

        return ToUploadInfo(upload.Id, state);
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

        var segments = await data.ConfigureAwait(false);
        segments.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        await DeleteKeysAsync([.. segments.Select(s => s.Key), InfoKey(uploadId)], cancellationToken).ConfigureAwait(false);
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
                if (TryParseDataKey(baseKey, upload.Key) is not null)
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
