using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tus.Stores;

namespace Contoso.Tus;

/// <summary>
/// A tus store that keeps uploads in process memory: for tests and demos, not for production (a restart loses every
/// upload, and every byte uploaded stays on the heap). It serves termination, deferred length, expiration, checksum and
/// listing (which the engine's expiration sweep needs), but not concatenation.
/// </summary>
/// <remarks>The upload a lookup found rides along in <see cref="UploadInfo.StoreState"/>, so the later calls of a request
/// find it without a second lookup.</remarks>
public sealed class InMemoryTusStore : ITusStore, ITusTerminationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore, ITusListingStore
{
    private readonly ConcurrentDictionary<string, Upload> _uploads = new(StringComparer.Ordinal);

    public ITusTerminationStore? Termination => this;

    public ITusConcatenationStore? Concatenation => null;

    public ITusDeferredLengthStore? DeferredLength => this;

    public ITusExpirationStore? Expiration => this;

    public ITusChecksumStore? Checksum => this;

    public ITusListingStore? Listing => this;

    public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        cancellationToken.ThrowIfCancellationRequested();
        var created = new Upload(new UploadInfo
        {
            Id = upload.Id,
            Length = upload.Length,
            Metadata = upload.Metadata,
            Concatenation = upload.Concatenation,
            CreatedAt = upload.CreatedAt,
            ExpiresAt = upload.ExpiresAt,
        });
        if (!_uploads.TryAdd(upload.Id, created))
        {
            throw new UploadAlreadyExistsException(upload.Id);
        }

        return ValueTask.FromResult(created.Describe());
    }

    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_uploads.TryGetValue(uploadId, out var upload) ? upload.Describe() : null);
    }

    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(data);
        cancellationToken.ThrowIfCancellationRequested();
        var target = Find(upload);
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        long appended = 0;
        try
        {
            while (true)
            {
                // Memory has no I/O to pass the token to, so the store checks it itself before each read: an abandoned
                // write stops here, with every byte it received already kept.
                cancellationToken.ThrowIfCancellationRequested();
                var read = await data.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                // Each chunk is kept as soon as it arrives, so a body that breaks off keeps what it delivered.
                lock (target.Gate)
                {
                    target.ThrowIfRemoved();
                    target.Data.Seek(0, SeekOrigin.End);
                    target.Data.Write(buffer, 0, read);
                }

                appended += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return appended;
    }

    public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        cancellationToken.ThrowIfCancellationRequested();
        var source = Find(upload);
        lock (source.Gate)
        {
            source.ThrowIfRemoved();
            var copy = new byte[length];
            Array.Copy(source.Data.GetBuffer(), offset, copy, 0, length);
            return ValueTask.FromResult<Stream>(new MemoryStream(copy, writable: false));
        }
    }

    public ValueTask DeleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_uploads.TryRemove(uploadId, out var removed))
        {
            removed.Remove();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<UploadInfo> SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Find(upload).Change(info => info with { Length = length }));
    }

    public ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Find(upload).Change(info => info with { ExpiresAt = expiresAt }));
    }

    public async IAsyncEnumerable<UploadInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Enumerating a ConcurrentDictionary is safe while it changes: an upload present throughout comes once, one added
        // or removed meanwhile may or may not come. One removed since is skipped.
        foreach (var (_, upload) in _uploads)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (upload.TryDescribe() is { } info)
            {
                yield return info;
            }
        }

        await Task.CompletedTask;
    }

    public ValueTask RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken) => DeleteAsync(uploadId, cancellationToken);

    public ValueTask<UploadInfo> DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        cancellationToken.ThrowIfCancellationRequested();
        var target = Find(upload);
        lock (target.Gate)
        {
            target.ThrowIfRemoved();
            target.Data.SetLength(offset);
            return ValueTask.FromResult(target.Describe());
        }
    }

    /// <summary>The upload the lookup found (its store state) while it still exists, else the one its id finds now.</summary>
    private Upload Find(UploadInfo upload) =>
        upload.StoreState is Upload found && !found.IsRemoved ? found
        : _uploads.TryGetValue(upload.Id, out var current) ? current
        : throw new UploadNotFoundException(upload.Id);

    /// <summary>One upload: its description and its bytes. The offset is never stored: it is the number of bytes held.</summary>
    private sealed class Upload(UploadInfo info)
    {
        private UploadInfo _info = info;

        /// <summary>Guards the description and the data.</summary>
        public object Gate { get; } = new();

        public MemoryStream Data { get; } = new();

        /// <summary>Whether the upload was deleted or removed; read under <see cref="Gate"/> or as a hint.</summary>
        public bool IsRemoved { get; private set; }

        public UploadInfo Describe()
        {
            lock (Gate)
            {
                return _info with { Offset = Data.Length, StoreState = this };
            }
        }

        /// <summary>The description, or <see langword="null"/> once the upload has been removed.</summary>
        public UploadInfo? TryDescribe()
        {
            lock (Gate)
            {
                return IsRemoved ? null : _info with { Offset = Data.Length, StoreState = this };
            }
        }

        public UploadInfo Change(Func<UploadInfo, UploadInfo> change)
        {
            lock (Gate)
            {
                ThrowIfRemoved();
                _info = change(_info);
                return _info with { Offset = Data.Length, StoreState = this };
            }
        }

        public void Remove()
        {
            lock (Gate)
            {
                IsRemoved = true;
            }
        }

        public void ThrowIfRemoved()
        {
            if (IsRemoved)
            {
                throw new UploadNotFoundException(_info.Id);
            }
        }
    }
}
