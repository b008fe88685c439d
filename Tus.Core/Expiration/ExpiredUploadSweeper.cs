using Tus.Engine;
using Tus.Stores;

namespace Tus.Expiration;

/// <summary>Removes unfinished uploads whose expiry has passed.</summary>
/// <remarks>
/// A sweep never fails because of the store: a listing that cannot start or breaks off ends this sweep's listing, an
/// upload that cannot be removed is skipped, and the next upload and the next sweep go on. Each failure is logged at
/// warning, and a sweep that had any logs a summary with the counts (<see cref="SweepResult"/>).
/// </remarks>
internal static class ExpiredUploadSweeper
{
    public static async ValueTask<int> SweepAsync(EngineContext context, CancellationToken cancellationToken)
    {
        var result = await SweepWithResultAsync(context, cancellationToken).ConfigureAwait(false);
        if (result.RemovalFailures > 0 || result.ListingFailed)
        {
            Log.SweepHadFailures(context.Logger, result.Removed, result.RemovalFailures, result.ListingFailed);
        }

        return result.Removed;
    }

    public static async ValueTask<SweepResult> SweepWithResultAsync(EngineContext context, CancellationToken cancellationToken)
    {
        if (context.Capabilities.Expiration is not { } expiration || context.Store.Listing is not { } listing)
        {
            return default;
        }

        var removed = 0;
        var failures = 0;
        IAsyncEnumerator<UploadInfo> uploads;
        try
        {
            uploads = listing.ListAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.SweepListingFailed(context.Logger, exception);
            return new SweepResult(0, 0, ListingFailed: true);
        }

        var listingFailed = false;
        try
        {
            while (true)
            {
                UploadInfo candidate;
                try
                {
                    if (!await uploads.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }

                    candidate = uploads.Current;
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // A listing that breaks ends this sweep, not the host's sweeping: the next one starts afresh.
                    Log.SweepListingFailed(context.Logger, exception);
                    listingFailed = true;
                    break;
                }

                if (candidate is null || !candidate.IsExpiredAt(context.Now))
                {
                    continue;
                }

                switch (await TryRemoveAsync(context, expiration, candidate.Id, cancellationToken).ConfigureAwait(false))
                {
                    case Removal.Removed:
                        removed++;
                        break;
                    case Removal.Failed:
                        failures++;
                        break;
                }
            }
        }
        finally
        {
            try
            {
                await uploads.DisposeAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A listing that fails to clean up must not fail the sweep either.
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                Log.SweepListingFailed(context.Logger, exception);
                listingFailed = true;
            }
        }

        return new SweepResult(removed, failures, listingFailed);
    }

    private static async ValueTask<Removal> TryRemoveAsync(EngineContext context, ITusExpirationStore expiration, string uploadId, CancellationToken cancellationToken)
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
                return Removal.Skipped;
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
                    return Removal.Skipped;
                }

                using (var call = context.StoreCall(cancellationToken, held.Lost))
                {
                    await call.Await(expiration.RemoveExpiredAsync(uploadId, call.Token)).ConfigureAwait(false);
                }

                Log.ExpiredRemoved(context.Logger, uploadId);
                Diagnostics.TusMetrics.UploadsExpired.Add(1);
                return Removal.Removed;
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
            return Removal.Failed;
        }
    }

    private enum Removal
    {
        Skipped,
        Removed,
        Failed,
    }
}

/// <summary>What one sweep did.</summary>
/// <param name="Removed">Expired uploads removed.</param>
/// <param name="RemovalFailures">Expired uploads whose lookup or removal failed (each logged); the next sweep tries again.</param>
/// <param name="ListingFailed">Whether the listing failed to start, broke off or failed to clean up (logged); the
/// uploads it did not reach wait for the next sweep.</param>
internal readonly record struct SweepResult(int Removed, int RemovalFailures, bool ListingFailed);
