using Tus.Protocol;
using Tus.Stores.Internal;

namespace Tus.Stores;

/// <summary>
/// A tus store that keeps each upload as two files in one directory: <c>{id}</c> holds the data and <c>{id}.info</c>
/// the JSON description (length, metadata, concatenation, creation and expiry times). It serves every capability:
/// termination, concatenation, deferred length, expiration and checksum.
/// </summary>
/// <remarks>
/// <para>An upload's offset is never stored: it is the data file's length, read on every lookup, so a crash in the
/// middle of an append can never leave an offset that claims bytes the file does not hold.</para>
/// <para>The info file is replaced atomically (written to <c>{id}.info.{random}.tmp</c>, then renamed), so it is always
/// either the old or the new version. Temporary files are never taken for uploads; deleting an upload removes its own.</para>
/// <para>Small info files are read and written synchronously; data is streamed asynchronously with bounded memory.</para>
/// </remarks>
public sealed partial class FileStore : ITusStore
{
    private const int ConcatenationBufferSize = 1024 * 1024;

    private readonly string _directory;
    private readonly bool _flushToDisk;
    private readonly int _bufferSize;
    private readonly bool _directWrites;
    private readonly long _directWriteThreshold;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the store over <see cref="FileStoreOptions.Directory"/>, creating the directory when missing.</summary>
    /// <param name="options">The options; validated and copied here, so later changes have no effect.</param>
    /// <param name="timeProvider">The clock, used for the creation time of an upload that comes without one.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    /// <exception cref="IOException">The directory cannot be created.</exception>
    public FileStore(FileStoreOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid file store options:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)), nameof(options));
        }

        _directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Directory));
        _flushToDisk = options.FlushToDisk;
        _bufferSize = options.BufferSize;
        _directWrites = options.DirectWrites;
        _directWriteThreshold = options.DirectWriteThreshold;
        _timeProvider = timeProvider;
        Directory.CreateDirectory(_directory);
    }

    /// <inheritdoc />
    public ITusTerminationStore? Termination => this;

    /// <inheritdoc />
    public ITusConcatenationStore? Concatenation => this;

    /// <inheritdoc />
    public ITusDeferredLengthStore? DeferredLength => this;

    /// <inheritdoc />
    public ITusExpirationStore? Expiration => this;

    /// <inheritdoc />
    public ITusChecksumStore? Checksum => this;

    /// <inheritdoc />
    public ITusListingStore? Listing => this;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The id is invalid, cannot name a file, or the upload's details are invalid.</exception>
    /// <exception cref="StorageFullException">The disk is full.</exception>
    public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var files = UploadFiles.Resolve(_directory, upload.Id, nameof(upload));
        if (upload.Length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(upload), upload.Length, "The length of an upload cannot be negative.");
        }

        if (upload.Concatenation is { IsFinal: true } final && final.PartialIds.Any(id => !UploadId.IsValid(id)))
        {
            throw new ArgumentException("A partial upload id of the final upload is not a valid upload id.", nameof(upload));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var createdAt = upload.CreatedAt == default ? _timeProvider.GetUtcNow() : upload.CreatedAt;
        var document = UploadInfoDocument.From(upload, createdAt);

        // CreateNew claims the id atomically: of two racing creations, exactly one gets the data file.
        try
        {
            File.OpenHandle(files.DataPath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete).Dispose();
        }
        catch (IOException) when (File.Exists(files.DataPath) || Directory.Exists(files.DataPath))
        {
            throw new UploadAlreadyExistsException(upload.Id);
        }
        catch (IOException e) when (StorageErrors.IsDiskFull(e))
        {
            throw StorageErrors.StorageFull(files.DataPath, e);
        }

        try
        {
            files.WriteInfo(document, _flushToDisk);
        }
        catch
        {
            UploadFiles.TryDelete(files.DataPath);
            throw;
        }

        return ValueTask.FromResult(document.ToUploadInfo(0, files.Storage(), files.InfoPath));
    }

    /// <inheritdoc />
    /// <remarks>The offset is the data file's length. An info file without its data file counts as no upload.</remarks>
    /// <exception cref="ArgumentException">The id is invalid.</exception>
    /// <exception cref="InvalidDataException">The upload's info file is corrupt.</exception>
    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken)
    {
        UploadId.ThrowIfInvalid(uploadId, nameof(uploadId));
        cancellationToken.ThrowIfCancellationRequested();
        if (UploadFiles.IsReservedName(uploadId))
        {
            return ValueTask.FromResult<UploadInfo?>(null);
        }

        var files = UploadFiles.Resolve(_directory, uploadId, nameof(uploadId));
        var document = files.ReadInfo();
        var offset = document is null ? null : files.DataLength();
        return ValueTask.FromResult(offset is { } length ? document!.ToUploadInfo(length, files.Storage(), files.InfoPath) : null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The data is copied with <see cref="Stream.CopyToAsync(Stream, int, CancellationToken)"/> into an unbuffered
    /// file stream (written synchronously outside Windows, where asynchronous file writes only move the blocking write
    /// to another thread), so a body that writes itself into its destination reaches the file with no copy in between. The
    /// count returned is measured from the file. When the copy fails or is cancelled, the bytes written so far stay in
    /// the file (and in the offset <see cref="GetAsync"/> reports) and the exception propagates.
    /// </remarks>
    /// <exception cref="ArgumentException">The upload's id is invalid.</exception>
    /// <exception cref="UploadNotFoundException">The data file is missing.</exception>
    /// <exception cref="InvalidOperationException">The data file's length differs from <see cref="UploadInfo.Offset"/>.</exception>
    /// <exception cref="StorageFullException">The disk is full; the bytes written before stay.</exception>
    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(data);
        var files = UploadFiles.Resolve(_directory, upload.Id, nameof(upload));
        var file = OpenData(files, FileAccess.Write, FileShare.Read | FileShare.Delete, AppendOptions);
        await using (file.ConfigureAwait(false))
        {
            var before = file.Length;
            if (before != upload.Offset)
            {
                throw new InvalidOperationException($"The data file of upload '{upload.Id}' holds {before} bytes, but the upload's offset is {upload.Offset}: the upload was changed without its lock.");
            }

            file.Position = before;
            using var direct = _directWrites && DirectAppendStream.IsSupported
                ? new DirectAppendStream(file.SafeFileHandle, files.DataPath, before, _directWriteThreshold)
                : null;
            try
            {
                try
                {
                    Stream destination = direct is not null ? direct : AppendOptions.HasFlag(FileOptions.Asynchronous) ? file : new SynchronousWriteStream(file);
                    await data.CopyToAsync(destination, _bufferSize, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // Whatever the copy received is kept, also when it failed or was cancelled.
                    if (direct is not null)
                    {
                        await direct.CompleteAsync().ConfigureAwait(false);
                    }
                }

                if (_flushToDisk)
                {
                    file.Flush(flushToDisk: true);
                }
            }
            catch (IOException e) when (StorageErrors.IsDiskFull(e))
            {
                FlushToDiskAfterFailure(file);
                throw StorageErrors.StorageFull(files.DataPath, e);
            }
            catch
            {
                FlushToDiskAfterFailure(file);
                throw;
            }

            // Direct writes bypass the file stream, whose cached length would not see them.
            return (direct is not null ? direct.End : file.Length) - before;
        }
    }

    /// <inheritdoc />
    /// <remarks>The stream is seekable within the range and reports the range's length.</remarks>
    /// <exception cref="ArgumentException">The upload's id is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is negative or goes beyond the upload's offset.</exception>
    /// <exception cref="UploadNotFoundException">The data file is missing.</exception>
    public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var files = UploadFiles.Resolve(_directory, upload.Id, nameof(upload));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > upload.Offset - length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The range [{offset}, {offset} + {length}) goes beyond the upload's offset {upload.Offset}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var handle = File.OpenHandle(files.DataPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return ValueTask.FromResult<Stream>(new FileRangeStream(handle, offset, length));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UploadNotFoundException(upload.Id);
        }
    }

    /// <summary>
    /// How appends open the data file. Outside Windows there is no asynchronous file I/O: an "asynchronous" write is a
    /// blocking write handed to another thread-pool thread, one hand-off per block. A write into the page cache takes
    /// microseconds, so appends write synchronously there, on the thread that read the block (see bench/).
    /// </summary>
    private static readonly FileOptions AppendOptions = OperatingSystem.IsWindows()
        ? FileOptions.Asynchronous | FileOptions.SequentialScan
        : FileOptions.SequentialScan;

    private static FileStream OpenData(UploadFiles files, FileAccess access, FileShare share) =>
        OpenData(files, access, share, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private static FileStream OpenData(UploadFiles files, FileAccess access, FileShare share, FileOptions options)
    {
        try
        {
            return new FileStream(files.DataPath, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = access,
                Share = share,
                Options = options,
                BufferSize = 0, // no buffer: writes go straight to the file, and nothing is held back on failure
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UploadNotFoundException(files.Id);
        }
    }

    private void FlushToDiskAfterFailure(FileStream file)
    {
        if (!_flushToDisk)
        {
            return;
        }

        try
        {
            file.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // The original failure is what the caller needs to see; the bytes are written, if not yet durable.
        }
    }
}
