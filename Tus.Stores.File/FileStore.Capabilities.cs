using System.Runtime.CompilerServices;
using Tus.Protocol;
using Tus.Stores.Internal;

namespace Tus.Stores;

/// <content>The capabilities, implemented explicitly: reach them through <see cref="ITusStore"/>'s properties.</content>
public sealed partial class FileStore : ITusTerminationStore, ITusConcatenationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore, ITusListingStore
{
    /// <inheritdoc />
    ValueTask ITusTerminationStore.DeleteAsync(string uploadId, CancellationToken cancellationToken) =>
        Delete(uploadId, cancellationToken);

    /// <inheritdoc />
    ValueTask ITusExpirationStore.RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken) =>
        Delete(uploadId, cancellationToken);

    /// <inheritdoc />
    async ValueTask<UploadInfo> ITusConcatenationStore.ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(final);
        ArgumentNullException.ThrowIfNull(partials);
        var finalFiles = UploadFiles.Resolve(_directory, final.Id, nameof(final));
        if (final.Concatenation is not { IsFinal: true })
        {
            throw new ArgumentException($"Upload '{final.Id}' is not a final upload.", nameof(final));
        }

        if (partials.Count == 0)
        {
            throw new ArgumentException("A final upload needs at least one partial upload.", nameof(partials));
        }

        var partialFiles = new UploadFiles[partials.Count];
        long total = 0;
        for (var i = 0; i < partials.Count; i++)
        {
            var partial = partials[i] ?? throw new ArgumentException($"Partial upload {i} is null.", nameof(partials));
            partialFiles[i] = UploadFiles.Resolve(_directory, partial.Id, nameof(partials));
            if (string.Equals(partial.Id, final.Id, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Upload '{final.Id}' cannot be a partial upload of itself.", nameof(partials));
            }

            if (!partial.IsComplete)
            {
                throw new ArgumentException($"Partial upload '{partial.Id}' is not complete.", nameof(partials));
            }

            total = checked(total + partial.Length!.Value);
        }

        var (document, _) = finalFiles.ReadExisting();
        if (document.Length is { } declared && declared != total)
        {
            throw new InvalidOperationException($"Final upload '{final.Id}' declares {declared} bytes, but its partial uploads hold {total}.");
        }

        var destination = OpenData(finalFiles, FileAccess.Write, FileShare.Read | FileShare.Delete);
        await using (destination.ConfigureAwait(false))
        {
            try
            {
                // Whatever an interrupted earlier attempt left is replaced.
                destination.SetLength(0);
                for (var i = 0; i < partials.Count; i++)
                {
                    await CopyPartialAsync(partialFiles[i], partials[i].Length!.Value, destination, cancellationToken).ConfigureAwait(false);
                }

                if (destination.Length != total)
                {
                    throw new InvalidOperationException($"Final upload '{final.Id}' holds {destination.Length} bytes after concatenation instead of {total}: a partial upload changed meanwhile.");
                }

                if (_flushToDisk)
                {
                    destination.Flush(flushToDisk: true);
                }

                if (document.Length is null)
                {
                    document = document with { Length = total };
                    finalFiles.WriteInfo(document, _flushToDisk);
                }
            }
            catch (Exception e)
            {
                TruncateAfterFailure(destination);
                if (e is IOException io && StorageErrors.IsDiskFull(io))
                {
                    throw StorageErrors.StorageFull(finalFiles.DataPath, io);
                }

                throw;
            }
        }

        return document.ToUploadInfo(total, finalFiles.Storage(), finalFiles.InfoPath);
    }

    /// <inheritdoc />
    ValueTask<UploadInfo> ITusDeferredLengthStore.SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var files = UploadFiles.Resolve(_directory, upload.Id, nameof(upload));
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        cancellationToken.ThrowIfCancellationRequested();
        var (document, offset) = files.ReadExisting();
        if (length < offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The length cannot be below the upload's offset {offset}.");
        }

        if (document.Length is { } existing)
        {
            return existing == length
                ? ValueTask.FromResult(document.ToUploadInfo(offset, files.Storage(), files.InfoPath))
                : throw new InvalidOperationException($"Upload '{upload.Id}' has a length of {existing} already.");
        }

        document = document with { Length = length };
        files.WriteInfo(document, _flushToDisk);
        return ValueTask.FromResult(document.ToUploadInfo(offset, files.Storage(), files.InfoPath));
    }

    /// <inheritdoc />
    ValueTask<UploadInfo> ITusExpirationStore.SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var files = UploadFiles.Resolve(_directory, upload.Id, nameof(upload));
        cancellationToken.ThrowIfCancellationRequested();
        var (document, offset) = files.ReadExisting();
        document = document with { ExpiresAt = expiresAt };
        files.WriteInfo(document, _flushToDisk);
        return ValueTask.FromResult(document.ToUploadInfo(offset, files.Storage(), files.InfoPath));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Lists every <c>{id}.info</c> file of the directory; temporary files and other names are skipped, and so are
    /// uploads whose info file is corrupt or that vanish during the listing.
    /// </remarks>
    async IAsyncEnumerable<UploadInfo> ITusListingStore.ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var id in UploadFiles.EnumerateIds(_directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var upload = TryGetForListing(id);
            if (upload is not null)
            {
                yield return upload;
            }

            // Listing a large directory must not hold the caller's thread for its whole length.
            await Task.Yield();
        }
    }

    ValueTask<UploadInfo> ITusChecksumStore.DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var files = UploadFiles.Resolve(_directory, upload.Id, nameof(upload));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        cancellationToken.ThrowIfCancellationRequested();
        var (document, current) = files.ReadExisting();
        if (offset > current)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The upload holds only {current} bytes.");
        }

        using (var file = OpenData(files, FileAccess.Write, FileShare.Read | FileShare.Delete))
        {
            file.SetLength(offset);
            if (_flushToDisk)
            {
                file.Flush(flushToDisk: true);
            }
        }

        return ValueTask.FromResult(document.ToUploadInfo(offset, files.Storage(), files.InfoPath));
    }

    private ValueTask Delete(string uploadId, CancellationToken cancellationToken)
    {
        UploadId.ThrowIfInvalid(uploadId, nameof(uploadId));
        cancellationToken.ThrowIfCancellationRequested();
        if (!UploadFiles.IsReservedName(uploadId))
        {
            UploadFiles.Resolve(_directory, uploadId, nameof(uploadId)).DeleteAll();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The upload as <see cref="GetAsync"/> reads it, or <see langword="null"/> when it vanished meanwhile or its info is
    /// corrupt: one broken upload must not break the listing of all the others.</summary>
    private UploadInfo? TryGetForListing(string id)
    {
        var files = UploadFiles.Resolve(_directory, id, nameof(id));
        try
        {
            var document = files.ReadInfo();
            return document is not null && files.DataLength() is { } offset
                ? document.ToUploadInfo(offset, files.Storage(), files.InfoPath)
                : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static async ValueTask CopyPartialAsync(UploadFiles partial, long length, FileStream destination, CancellationToken cancellationToken)
    {
        var source = OpenData(partial, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        await using (source.ConfigureAwait(false))
        {
            if (source.Length != length)
            {
                throw new InvalidOperationException($"Partial upload '{partial.Id}' holds {source.Length} bytes, not its length {length}.");
            }

            await source.CopyToAsync(destination, ConcatenationBufferSize, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void TruncateAfterFailure(FileStream destination)
    {
        try
        {
            destination.SetLength(0);
        }
        catch (IOException)
        {
            // The original failure is what the caller needs to see.
        }
    }
}
