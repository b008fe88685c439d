using System.Diagnostics;
using Tus.Locking;

namespace Tus.Diagnostics;

/// <summary>
/// The engine's view of the configured locker: lock waits timed (<c>tus.lock.wait.duration</c>, by outcome) and
/// traced, and leases lost while held counted (<c>tus.lock.lost</c>).
/// </summary>
internal sealed class ObservedLocker(ITusLocker inner, TimeProvider time) : ITusLocker
{
    public async ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        using var activity = Start("tus.lock.acquire", uploadId);
        var started = time.GetTimestamp();
        var outcome = "failed";
        try
        {
            var held = await inner.AcquireAsync(uploadId, cancellationToken).ConfigureAwait(false);
            outcome = "acquired";
            return ObservedLock.Watch(held);
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            Finish(activity, started, outcome);
        }
    }

    public async ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        using var activity = Start("tus.lock.try_acquire", uploadId);
        var started = time.GetTimestamp();
        var outcome = "failed";
        try
        {
            var held = await inner.TryAcquireAsync(uploadId, cancellationToken).ConfigureAwait(false);
            outcome = held is null ? "busy" : "acquired";
            return held is null ? null : ObservedLock.Watch(held);
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            Finish(activity, started, outcome);
        }
    }

    private static Activity? Start(string name, string uploadId)
    {
        var activity = TusActivities.Source.StartActivity(name);
        activity?.SetTag(TusActivities.UploadIdTag, uploadId);
        return activity;
    }

    private void Finish(Activity? activity, long started, string outcome)
    {
        activity?.SetTag(TusMetrics.LockOutcomeTag, outcome);
        if (outcome == "failed")
        {
            activity?.SetStatus(ActivityStatusCode.Error);
        }

        TusMetrics.LockWaitDuration.Record(TusMetrics.SecondsSince(time, started), new KeyValuePair<string, object?>(TusMetrics.LockOutcomeTag, outcome));
    }
}

/// <summary>A held lock whose loss is counted; a lock that cannot be lost (in-process lockers) is not wrapped at all.</summary>
internal sealed class ObservedLock : ITusLock
{
    private readonly ITusLock _inner;
    private readonly CancellationTokenRegistration _lostRegistration;

    private ObservedLock(ITusLock inner)
    {
        _inner = inner;
        _lostRegistration = inner.Lost.UnsafeRegister(static _ => TusMetrics.LocksLost.Add(1), null);
    }

    public static ITusLock Watch(ITusLock held) => held.Lost.CanBeCanceled ? new ObservedLock(held) : held;

    public string UploadId => _inner.UploadId;

    public CancellationToken ReleaseRequested => _inner.ReleaseRequested;

    public CancellationToken Lost => _inner.Lost;

    public long FencingToken => _inner.FencingToken;

    public ValueTask DisposeAsync()
    {
        // Stop counting first: a locker may fire Lost as part of an ordinary release.
        _lostRegistration.Dispose();
        return _inner.DisposeAsync();
    }
}
