using System.Globalization;

namespace Tus.Lockers.Consul.Internal;

/// <summary>
/// One Consul session: the lease behind one acquire (its waiter key while it waits, then its lock key). It renews itself
/// every third of the TTL and fires <see cref="Lost"/> as soon as it knows or must assume that Consul let it go: a renewal
/// answered "not found" (invalidated), or no renewal succeeded for half the TTL (Consul unreachable), which is before
/// Consul may invalidate it (never earlier than the TTL after the last renewal it saw).
/// </summary>
// Its lifetime ends with StopAsync (which disposes what holds resources); _lost is never disposed because requests may
// read its token at any time, and a source without a timer holds nothing that disposing would free.
#pragma warning disable CA1001
internal sealed class ConsulSession
#pragma warning restore CA1001
{
    private readonly ConsulLocker _owner;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _renewInterval;
    private readonly TimeSpan _lostAfter;
    private ITimer? _deadline;
    private Task _renewing = Task.CompletedTask;
    private int _stopped;

    private ConsulSession(ConsulLocker owner, string id)
    {
        _owner = owner;
        Id = id;
        _renewInterval = owner.Options.SessionTtl / 3;
        _lostAfter = owner.Options.SessionTtl / 2;
    }

    /// <summary>Consul's id of the session.</summary>
    public string Id { get; }

    /// <summary>Fires when the session is (or must be assumed) invalidated; never reset.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Creates a session and starts renewing it.</summary>
    public static async Task<ConsulSession> CreateAsync(ConsulLocker owner, string uploadId, CancellationToken cancellationToken)
    {
        var options = owner.Options;
        var sent = owner.Time.GetTimestamp();
        var id = await owner.Client.CreateSessionAsync(
            new SessionCreateRequest
            {
                Name = "tus " + uploadId + " " + owner.Holder,
                TTL = Duration(options.SessionTtl),
                LockDelay = Duration(options.LockDelay),
                // Keys the session still holds when it is invalidated are deleted rather than merely unlocked: a waiter
                // of a dead process leaves the queue, and no lock key is left behind.
                Behavior = "delete",
            },
            cancellationToken).ConfigureAwait(false);
        var session = new ConsulSession(owner, id);
        session.Start(sent);
        return session;
    }

    /// <summary>Stops renewing (the session then expires on its own unless destroyed).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            await _renewing.ConfigureAwait(false);
            return;
        }

        _stop.Cancel();
        _deadline?.Dispose();
        await _renewing.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Stops renewing and destroys the session; Consul deletes any key it still holds.</summary>
    public async Task DestroyAsync(CancellationToken cancellationToken)
    {
        await StopAsync().ConfigureAwait(false);
        await _owner.Client.DestroySessionAsync(Id, cancellationToken).ConfigureAwait(false);
    }

    private void Start(long sent)
    {
        _deadline = _owner.Time.CreateTimer(static state => ((ConsulSession)state!).OnDeadline(), this, Remaining(sent), Timeout.InfiniteTimeSpan);
        _renewing = RenewAsync();
    }

    private TimeSpan Remaining(long sent)
    {
        var remaining = _lostAfter - _owner.Time.GetElapsedTime(sent);
        return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
    }

    private async Task RenewAsync()
    {
        var delay = _renewInterval;
        var token = _stop.Token;
        while (true)
        {
            try
            {
                await Task.Delay(delay, _owner.Time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var sent = _owner.Time.GetTimestamp();
            bool known;
            try
            {
                known = await _owner.Client.RenewSessionAsync(Id, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (ConsulUnavailableException exception)
            {
                // Retried every fifteenth of the TTL until the deadline (half the TTL after the last renewal that went through).
                ConsulLog.RenewFailed(_owner.Logger, exception, Id);
                delay = _renewInterval / 5;
                continue;
            }

            if (!known)
            {
                MarkLost($"Consul no longer knows session {Id}: it was invalidated (destroyed, expired, or its node failed)");
                return;
            }

            try
            {
                _deadline?.Change(Remaining(sent), Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            delay = _renewInterval;
        }
    }

    private void OnDeadline() =>
        MarkLost($"no renewal of session {Id} succeeded for {_lostAfter.TotalSeconds:F1} s (half its TTL): Consul may invalidate it soon, so its locks can no longer be trusted");

    /// <summary>Fires <see cref="Lost"/> once.</summary>
    public void MarkLost(string reason)
    {
        if (_lost.IsCancellationRequested)
        {
            return;
        }

        ConsulLog.SessionLost(_owner.Logger, Id, reason);
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException exception)
        {
            // A callback of a request's linked token threw; the signal went out all the same.
            ConsulLog.SignalCallbackFailed(_owner.Logger, exception, Id);
        }
    }

    private static string Duration(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
}
