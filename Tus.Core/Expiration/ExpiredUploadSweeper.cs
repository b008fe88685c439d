using Tus.Engine;
using Tus.Stores;

namespace Tus.Expiration;

/// <summary>Removes unfinished uploads whose expiry has passed.</summary>
internal static class ExpiredUploadSweeper
{
    public static async ValueTask<int> SweepAsync(EngineContext context, CancellationToken cancellationToken)
    {
        if (context.Capabilities.Expiration is not { } expiration || context.Store.Listing is not { } listing)
        {
            return 0;
        }

        var removed = 0;
        var uploads = listing.ListAsync(cancellationToken).ConfigureAwait(false).GetAsyncEnumerator();
        try
        {
            while (true)
            {
                UploadInfo candidate;
                try
                {
                    if (!await uploads.MoveNextAsync())
                    {
                        break;
                    }

                    candidate = uploads.Current;
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // A listing that breaks ends this sweep, not the host's sweeping: the next one starts afresh.
                    Log.SweepListingFailed(context.Logger, exception);
                    break;
                }

                if (candidate.IsExpiredAt(context.Now) && await TryRemoveAsync(context, expiration, candidate.Id, cancellationToken).ConfigureAwait(false))
                {
                    removed++;
                }
            }
        }
        finally
        {
            await uploads.DisposeAsync();
        }

        return removed;
    }

    private static async ValueTask<bool> TryRemoveAsync(EngineContext context, ITusExpirationStore expiration, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            // Never asks a holder to let go: an upload with a request in progress is simply left for a later sweep.
            Locking.ITusLock? held;
            using (var attempt = new CancellationTokenSource(context.Options.LockTimeout, context.Time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(attempt.Token, cancellationToken))
            {
                held = await context.Locker.TryAcquireAsync(uploadId, linked.Token).ConfigureAwait(false);
            }

            if (held is null)
            {
                return false;
            }

            await using (held.ConfigureAwait(false))
            {
                // Re-read under the lock: a write may have completed the upload or moved its expiry meanwhile.
                UploadInfo? current;
                using (var call = context.StoreCall(cancellationToken, held.Lost))
                {
                    current = await call.AwaitLookup(context.Store.GetAsync(uploadId, call.Token)).ConfigureAwait(false);
                }

                if (current is null || !current.IsExpiredAt(context.Now) || held.Lost.IsCancellationRequested)
                {
                    return false;
                }

                using (var call = context.StoreCall(cancellationToken, held.Lost))
                {
                    await call.Await(expiration.RemoveExpiredAsync(uploadId, call.Token)).ConfigureAwait(false);
                }

                Log.ExpiredRemoved(context.Logger, uploadId);
                return true;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // One upload that cannot be removed now must not stop the sweep; the next sweep tries again.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.ExpiredRemovalFailed(context.Logger, exception, uploadId);
            return false;
        }
    }
}
