using System.Diagnostics;
using Tus.Stores;

namespace Tus.Diagnostics;

/// <summary>
/// The engine's view of the configured store: every call timed (<c>tus.store.call.duration</c>) and traced as a child
/// span of its request, appends counted as writes in progress. It offers exactly the capabilities of the store it wraps.
/// </summary>
internal sealed class ObservedStore(ITusStore inner, TimeProvider time)
    : ITusStore, ITusTerminationStore, ITusConcatenationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore
{
    public ITusTerminationStore? Termination => inner.Termination is null ? null : this;

    public ITusConcatenationStore? Concatenation => inner.Concatenation is null ? null : this;

    public ITusDeferredLengthStore? DeferredLength => inner.DeferredLength is null ? null : this;

    public ITusExpirationStore? Expiration => inner.Expiration is null ? null : this;

    public ITusChecksumStore? Checksum => inner.Checksum is null ? null : this;

    // The sweep's listing is one long enumeration, not a call worth a span of its own.
    public ITusListingStore? Listing => inner.Listing;

    public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken) =>
        ObserveAsync("tus.store.create", "create", upload.Id, null, (inner, upload, cancellationToken), static s => s.inner.CreateAsync(s.upload, s.cancellationToken));

    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) =>
        ObserveAsync("tus.store.get", "get", uploadId, null, (inner, uploadId, cancellationToken), static s => s.inner.GetAsync(s.uploadId, s.cancellationToken));

    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        TusMetrics.ActiveWrites.Add(1);
        try
        {
            return await ObserveAsync("tus.store.append", "append", upload.Id, upload.Offset, (inner, upload, data, cancellationToken), static s => s.inner.AppendAsync(s.upload, s.data, s.cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            TusMetrics.ActiveWrites.Add(-1);
        }
    }

    public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken) =>
        ObserveAsync("tus.store.open_read", "open_read", upload.Id, offset, (inner, upload, offset, length, cancellationToken), static s => s.inner.OpenReadAsync(s.upload, s.offset, s.length, s.cancellationToken));

    public async ValueTask DeleteAsync(string uploadId, CancellationToken cancellationToken) =>
        await ObserveAsync("tus.store.delete", "delete", uploadId, null, (inner, uploadId, cancellationToken), static async s =>
        {
            await s.inner.Termination!.DeleteAsync(s.uploadId, s.cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);

    public ValueTask<UploadInfo> ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken) =>
        ObserveAsync("tus.store.concatenate", "concatenate", final.Id, null, (inner, final, partials, cancellationToken), static s => s.inner.Concatenation!.ConcatenateAsync(s.final, s.partials, s.cancellationToken));

    public ValueTask<UploadInfo> SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken) =>
        ObserveAsync("tus.store.set_length", "set_length", upload.Id, upload.Offset, (inner, upload, length, cancellationToken), static s => s.inner.DeferredLength!.SetLengthAsync(s.upload, s.length, s.cancellationToken));

    public ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
        ObserveAsync("tus.store.set_expiry", "set_expiry", upload.Id, upload.Offset, (inner, upload, expiresAt, cancellationToken), static s => s.inner.Expiration!.SetExpiryAsync(s.upload, s.expiresAt, s.cancellationToken));

    public async ValueTask RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken) =>
        await ObserveAsync("tus.store.remove_expired", "remove_expired", uploadId, null, (inner, uploadId, cancellationToken), static async s =>
        {
            await s.inner.Expiration!.RemoveExpiredAsync(s.uploadId, s.cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);

    public ValueTask<UploadInfo> DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken) =>
        ObserveAsync("tus.store.discard", "discard", upload.Id, offset, (inner, upload, offset, cancellationToken), static s => s.inner.Checksum!.DiscardFromAsync(s.upload, s.offset, s.cancellationToken));

    private async ValueTask<TResult> ObserveAsync<TState, TResult>(string spanName, string operation, string uploadId, long? offset, TState state, Func<TState, ValueTask<TResult>> call)
    {
        using var activity = TusActivities.Source.StartActivity(spanName);
        if (activity is not null)
        {
            activity.SetTag(TusMetrics.OperationTag, operation);
            activity.SetTag(TusActivities.UploadIdTag, uploadId);
            if (offset is { } at)
            {
                activity.SetTag(TusActivities.OffsetTag, at);
            }
        }

        var started = time.GetTimestamp();
        string? errorType = null;
        try
        {
            var result = await call(state).ConfigureAwait(false);
            if (activity is not null && result is long written)
            {
                activity.SetTag(TusActivities.BytesTag, written);
            }

            return result;
        }
        catch (Exception exception)
        {
            errorType = TusMetrics.ErrorType(exception);
            TusMetrics.SetError(activity, errorType);
            throw;
        }
        finally
        {
            var tags = new TagList { { TusMetrics.OperationTag, operation } };
            if (errorType is not null)
            {
                tags.Add(TusMetrics.ErrorTypeTag, errorType);
            }

            TusMetrics.StoreCallDuration.Record(TusMetrics.SecondsSince(time, started), tags);
        }
    }
}
