using Tus.Locking;
using Tus.Stores.Internal;

namespace Tus.Stores;

// The capability interfaces, implemented explicitly: each property on LimitedStore hands out this object only when the
// wrapped store has the capability, so the engine sees exactly the wrapped store's set.
public sealed partial class LimitedStore : ITusTerminationStore, ITusConcatenationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore
{
    async ValueTask ITusTerminationStore.DeleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        await Require(_inner.Termination).DeleteAsync(uploadId, cancellationToken).ConfigureAwait(false);
        Ledger.Remove(uploadId);
    }

    async ValueTask ITusExpirationStore.RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        await Require(_inner.Expiration).RemoveExpiredAsync(uploadId, cancellationToken).ConfigureAwait(false);
        Ledger.Remove(uploadId);
    }

    ValueTask<UploadInfo> ITusExpirationStore.SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
        Require(_inner.Expiration).SetExpiryAsync(upload, expiresAt, cancellationToken);

    async ValueTask<UploadInfo> ITusDeferredLengthStore.SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var deferred = Require(_inner.DeferredLength);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        if (_maxUploadBytes is { } maxOne && length > maxOne)
        {
            throw Refuse("length", upload.Id, $"the declared length of {length} bytes is above the largest upload allowed ({maxOne} bytes)");
        }

        // The rest of the declared length is reserved now, before the store records it.
        var charge = Ledger.ChargeOf(upload with { Length = length });
        if (!Ledger.TryRecharge(upload, charge, Now) &&
            !(await ReclaimAsync(charge - Ledger.ChargeOf(upload), needSlot: false, upload.Id, cancellationToken).ConfigureAwait(false) && Ledger.TryRecharge(upload, charge, Now)))
        {
            throw Refuse("length", upload.Id, $"the declared length of {length} bytes does not fit in the {Free()} bytes left of {_maxTotalBytes}");
        }

        UploadInfo updated;
        try
        {
            updated = await deferred.SetLengthAsync(upload, length, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Ledger.Settle(upload, 0, Now);
            throw;
        }

        Ledger.Settle(updated, 0, Now);
        return updated;
    }

    async ValueTask<UploadInfo> ITusConcatenationStore.ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(final);
        ArgumentNullException.ThrowIfNull(partials);
        var concatenation = Require(_inner.Concatenation);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        long total = 0;
        foreach (var partial in partials)
        {
            total = checked(total + (partial?.Length ?? 0));
        }

        if (_maxUploadBytes is { } maxOne && total > maxOne)
        {
            throw Refuse("concatenation", final.Id, $"the partial uploads hold {total} bytes, above the largest upload allowed ({maxOne} bytes)");
        }

        // The final upload is a copy: the stores keep the partial uploads, so its bytes take room of their own while
        // it is assembled, and afterwards if finished uploads count. A final created with its length reserved it then.
        var target = Math.Max(total, Ledger.ChargeOf(final));
        if (!Ledger.TryRecharge(final, target, Now) &&
            !(await ReclaimAsync(target - Ledger.ChargeOf(final), needSlot: false, final.Id, cancellationToken).ConfigureAwait(false) && Ledger.TryRecharge(final, target, Now)))
        {
            throw Refuse("concatenation", final.Id, $"the {total} bytes of the final upload do not fit in the {Free()} bytes left of {_maxTotalBytes}");
        }

        UploadInfo completed;
        try
        {
            completed = await concatenation.ConcatenateAsync(final, partials, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await SettleAfterFailureAsync(final, final, inFlight: 0).ConfigureAwait(false);
            throw;
        }

        Ledger.Settle(completed, 0, Now);
        return completed;
    }

    async ValueTask<UploadInfo> ITusChecksumStore.DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        var reverted = await Require(_inner.Checksum).DiscardFromAsync(upload, offset, cancellationToken).ConfigureAwait(false);
        // Bytes taken back are bytes released (for a deferred length). An upload that the discarded bytes had finished is
        // unfinished again and charged its length again without a check: refusing to take bad bytes back is no option.
        Ledger.Settle(reverted, 0, Now);
        return reverted;
    }

    /// <summary>
    /// Makes room for <paramref name="neededBytes"/> (and an unfinished-upload slot if <paramref name="needSlot"/>) by
    /// deleting abandoned unfinished uploads, oldest first, if <see cref="QuotaOptions.ReclaimAfter"/> is set. Reclaims run
    /// one at a time; an upload whose lock is held or wanted, that is finished, or that was written within the age, is left.
    /// </summary>
    /// <returns><see langword="true"/> when it freed anything (the caller tries its reservation again).</returns>
    internal async ValueTask<bool> ReclaimAsync(long neededBytes, bool needSlot, string? exceptId, CancellationToken cancellationToken)
    {
        if (_reclaimAfter is not { } age || _locker is null)
        {
            return false;
        }

        await _reclaimGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var freed = false;
            var cutoff = Now - age;
            foreach (var (id, _) in Ledger.ReclaimCandidates(cutoff))
            {
                if (HasRoom(neededBytes, needSlot))
                {
                    return true;
                }

                if (id != exceptId && await TryReclaimAsync(_locker, id, cutoff, cancellationToken).ConfigureAwait(false))
                {
                    freed = true;
                }
            }

            // Another request's reclaim, or a termination, may have made the room while this one waited for the gate.
            return freed || HasRoom(neededBytes, needSlot);
        }
        finally
        {
            _reclaimGate.Release();
        }
    }

    private bool HasRoom(long neededBytes, bool needSlot)
    {
        var usage = Ledger.Usage();
        return (_maxTotalBytes is not { } max || max - usage.UsedBytes >= neededBytes) &&
               (!needSlot || _maxUnfinished is not { } slots || usage.UnfinishedUploads < slots);
    }

    private async ValueTask<bool> TryReclaimAsync(ITusLocker locker, string uploadId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        try
        {
            ITusLock? held;
            using (var limit = new CancellationTokenSource(HelperCallTimeout, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken))
            {
                // Never waits and never asks a holder to let go: an upload with a request running is not abandoned.
                held = await locker.TryAcquireAsync(uploadId, linked.Token).ConfigureAwait(false);
            }

            if (held is null)
            {
                return false;
            }

            await using (held.ConfigureAwait(false))
            {
                // Checked again under the lock: a write may have finished it or moved it on meanwhile.
                var current = await _inner.GetAsync(uploadId, cancellationToken).ConfigureAwait(false);
                if (current is null)
                {
                    Ledger.Remove(uploadId);
                    return true;
                }

                var lastActivity = Ledger.LastActivity(uploadId) ?? current.CreatedAt;
                if (current.IsComplete || lastActivity > cutoff || current.CreatedAt > cutoff || held.Lost.IsCancellationRequested)
                {
                    return false;
                }

                if (_inner.Termination is { } termination)
                {
                    await termination.DeleteAsync(uploadId, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await Require(_inner.Expiration).RemoveExpiredAsync(uploadId, cancellationToken).ConfigureAwait(false);
                }

                var released = Ledger.Remove(uploadId);
                Ledger.CountReclaimed(released);
                Log.Reclaimed(_logger, uploadId, current.Offset, lastActivity, released);
                return true;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // One upload that cannot be reclaimed must not fail the request that needed room.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.ReclaimFailed(_logger, exception, uploadId);
            return false;
        }
    }

    private static T Require<T>(T? capability)
        where T : class =>
        capability ?? throw new NotSupportedException($"The wrapped store does not offer {typeof(T).Name}.");
}
