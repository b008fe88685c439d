using System.Runtime.CompilerServices;
using Tus.Stores;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>A store in memory for engine tests, with every capability switchable and failures injectable.</summary>
internal sealed class InMemoryStore :
    ITusStore, ITusTerminationStore, ITusConcatenationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore, ITusListingStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (UploadInfo Info, MemoryStream Data)> _uploads = new(StringComparer.Ordinal);

    public bool HasTermination { get; init; } = true;

    public bool HasConcatenation { get; init; } = true;

    public bool HasDeferredLength { get; init; } = true;

    public bool HasExpiration { get; init; } = true;

    public bool HasChecksum { get; init; } = true;

    public bool HasListing { get; init; } = true;

    /// <summary>Read the body with small ReadAsync calls instead of CopyToAsync, to exercise both paths.</summary>
    public bool ReadInSmallBuffers { get; init; }

    /// <summary>Like an S3 multipart upload: an unfinished upload's bytes cannot be read back.</summary>
    public bool CannotReadUnfinished { get; init; }

    /// <summary>How many times <see cref="OpenReadAsync"/> was called.</summary>
    public int OpenReadCalls => _openReadCalls;

    private int _openReadCalls;

    /// <summary>Thrown by the next call to any method, then cleared.</summary>
    public Exception? FailNext { get; set; }

    /// <summary>Signalled when an append starts reading.</summary>
    public TaskCompletionSource AppendStarted { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ITusTerminationStore? Termination => HasTermination ? this : null;

    public ITusConcatenationStore? Concatenation => HasConcatenation ? this : null;

    public ITusDeferredLengthStore? DeferredLength => HasDeferredLength ? this : null;

    public ITusExpirationStore? Expiration => HasExpiration ? this : null;

    public ITusChecksumStore? Checksum => HasChecksum ? this : null;

    public ITusListingStore? Listing => HasListing ? this : null;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _uploads.Count;
            }
        }
    }

    public byte[] DataOf(string id)
    {
        lock (_gate)
        {
            return _uploads[id].Data.ToArray();
        }
    }

    public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        var info = new UploadInfo
        {
            Id = upload.Id,
            Length = upload.Length,
            Metadata = upload.Metadata,
            Concatenation = upload.Concatenation,
            CreatedAt = upload.CreatedAt,
            ExpiresAt = upload.ExpiresAt,
        };
        lock (_gate)
        {
            if (!_uploads.TryAdd(upload.Id, (info, new MemoryStream())))
            {
                throw new UploadAlreadyExistsException(upload.Id);
            }
        }

        return ValueTask.FromResult(info);
    }

    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        lock (_gate)
        {
            return ValueTask.FromResult(_uploads.TryGetValue(uploadId, out var entry) ? entry.Info with { Offset = entry.Data.Length } : null);
        }
    }

    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        MemoryStream target;
        lock (_gate)
        {
            target = _uploads[upload.Id].Data;
        }

        target.Position = target.Length;
        var before = target.Length;
        AppendStarted.TrySetResult();
        if (ReadInSmallBuffers)
        {
            var buffer = new byte[7];
            int read;
            while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0)
            {
                target.Write(buffer, 0, read);
            }
        }
        else
        {
            await data.CopyToAsync(target, cancellationToken);
        }

        AppendStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        return target.Length - before;
    }

    public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        Interlocked.Increment(ref _openReadCalls);
        var bytes = DataOf(upload.Id);
        if (CannotReadUnfinished && (upload.Length is not { } total || bytes.Length < total))
        {
            throw new NotSupportedException("An unfinished upload cannot be read back.");
        }

        return ValueTask.FromResult<Stream>(new MemoryStream(bytes, (int)offset, (int)length, writable: false));
    }

    public ValueTask DeleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        lock (_gate)
        {
            _uploads.Remove(uploadId);
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask<UploadInfo> ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken)
    {
        ThrowIfFailing();
        var combined = new MemoryStream();
        foreach (var partial in partials)
        {
            await combined.WriteAsync(DataOf(partial.Id), cancellationToken);
        }

        lock (_gate)
        {
            var info = _uploads[final.Id].Info with { Length = combined.Length };
            _uploads[final.Id] = (info, combined);
            return info with { Offset = combined.Length };
        }
    }

    public ValueTask<UploadInfo> SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken) =>
        Update(upload.Id, info => info with { Length = length });

    public ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
        Update(upload.Id, info => info with { ExpiresAt = expiresAt });

    public async IAsyncEnumerable<UploadInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<UploadInfo> all;
        lock (_gate)
        {
            all = _uploads.Values.Select(e => e.Info with { Offset = e.Data.Length }).ToList();
        }

        foreach (var info in all)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return info;
        }
    }

    public ValueTask RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken) => DeleteAsync(uploadId, cancellationToken);

    public ValueTask<UploadInfo> DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var entry = _uploads[upload.Id];
            entry.Data.SetLength(offset);
            return ValueTask.FromResult(entry.Info with { Offset = offset });
        }
    }

    private ValueTask<UploadInfo> Update(string id, Func<UploadInfo, UploadInfo> change)
    {
        ThrowIfFailing();
        lock (_gate)
        {
            var entry = _uploads[id];
            var info = change(entry.Info);
            _uploads[id] = (info, entry.Data);
            return ValueTask.FromResult(info with { Offset = entry.Data.Length });
        }
    }

    private void ThrowIfFailing()
    {
        if (FailNext is { } failure)
        {
            FailNext = null;
            throw failure;
        }
    }
}
