using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tus.Stores;

namespace Contoso.Tus;

/// <summary>
/// A tus store that keeps uploads in process memory: for tests and demos, not for production (a restart loses every
/// upload, and every byte uploaded stays on the heap). It serves termination, deferred length, expiration and checksum,
/// but not concatenation.
/// </summary>
public sealed class InMemoryTusStore : ITusStore, ITusTerminationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore
{
    private readonly ConcurrentDictionary<string, Upload> _uploads = new(StringComparer.Ordinal);

    public ITusTerminationStore? Termination => this;

    public ITusConcatenationStore? Concatenation => null;

    public ITusDeferredLengthStore? DeferredLength => this;

    public ITusExpirationStore? Expiration => this;

    public ITusChecksumStore? Checksum => this;

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

    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_uploads.TryGetValue(uploadId, out var upload) ? upload.Describe() : null);

    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(data);
        var target = Find(upload.Id);
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        long appended = 0;
        try
        {
            int read;
            while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0)
            {
                // Each chunk is kept as soon as it arrives, so a body that breaks off keeps what it delivered.
                lock (target.Gate)
                {
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
        var source = Find(upload.Id);
        lock (source.Gate)
        {
            var copy = new byte[length];
            Array.Copy(source.Data.GetBuffer(), offset, copy, 0, length);
            return ValueTask.FromResult<Stream>(new MemoryStream(copy, writable: false));
        }
    }

    public ValueTask DeleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        _uploads.TryRemove(uploadId, out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask<UploadInfo> SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return ValueTask.FromResult(Find(upload.Id).Change(info => info with { Length = length }));
    }

    public ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return ValueTask.FromResult(Find(upload.Id).Change(info => info with { ExpiresAt = expiresAt }));
    }

    public async IAsyncEnumerable<UploadInfo> ListExpiredAsync(DateTimeOffset now, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var upload in _uploads.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var info = upload.Describe();
            if (info.IsExpiredAt(now))
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
        var target = Find(upload.Id);
        lock (target.Gate)
        {
            target.Data.SetLength(offset);
            return ValueTask.FromResult(target.Describe());
        }
    }

    private Upload Find(string uploadId) => _uploads.TryGetValue(uploadId, out var upload) ? upload : throw new UploadNotFoundException(uploadId);

    /// <summary>One upload: its description and its bytes. The offset is never stored: it is the number of bytes held.</summary>
    private sealed class Upload(UploadInfo info)
    {
        private UploadInfo _info = info;

        /// <summary>Guards the description and the data.</summary>
        public object Gate { get; } = new();

        public MemoryStream Data { get; } = new();

        public UploadInfo Describe()
        {
            lock (Gate)
            {
                return _info with { Offset = Data.Length };
            }
        }

        public UploadInfo Change(Func<UploadInfo, UploadInfo> change)
        {
            lock (Gate)
            {
                _info = change(_info);
                return _info with { Offset = Data.Length };
            }
        }
    }
}
