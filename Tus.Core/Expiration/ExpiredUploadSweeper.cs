using Tus.Engine;

namespace Tus.Expiration;

/// <summary>Removes unfinished uploads whose expiry has passed.</summary>
internal static class ExpiredUploadSweeper
{
    public static async ValueTask<int> SweepAsync(EngineContext context, CancellationToken cancellationToken)
    {
        if (context.Capabilities.Expiration is not { } expiration)
        {
            return 0;
        }

        var removed = 0;
        await foreach (var candidate in expiration.ListExpiredAsync(context.Now, cancellationToken).ConfigureAwait(false))
        {
            // A body still streaming into an upload keeps it alive: asking for its lock would cut that request off.
            if (context.Writing.ContainsKey(candidate.Id))
            {
                continue;
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(context.Options.LockTimeout);
                var held = await context.Locker.AcquireAsync(candidate.Id, timeout.Token).ConfigureAwait(false);
                await using (held.ConfigureAwait(false))
                {
                    // Re-read under the lock: a write may have completed the upload or moved its expiry meanwhile.
                    var current = await context.Store.GetAsync(candidate.Id, cancellationToken).ConfigureAwait(false);
                    if (current is null || !current.IsExpiredAt(context.Now))
                    {
                        continue;
                    }

                    await expiration.RemoveExpiredAsync(candidate.Id, cancellationToken).ConfigureAwait(false);
                    Log.ExpiredRemoved(context.Logger, candidate.Id);
                    removed++;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception exception)
            {
                // One upload that cannot be removed now must not stop the sweep; the next sweep tries again.
                Log.ExpiredRemovalFailed(context.Logger, exception, candidate.Id);
            }
        }

        return removed;
    }
}
