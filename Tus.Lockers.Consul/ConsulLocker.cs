using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tus.Lockers.Consul.Internal;
using Tus.Locking;

namespace Tus.Lockers.Consul;

/// <summary>
/// Grants exclusive access to one upload at a time across every process that uses the same Consul cluster and
/// <see cref="ConsulLockerOptions.KeyPrefix"/>: several server instances behind a load balancer, sharing a store.
/// </summary>
/// <remarks>
/// <para>
/// Each acquire creates a Consul session (TTL <see cref="ConsulLockerOptions.SessionTtl"/>, renewed in the background,
/// behavior "delete") and takes the upload's lock key <c>{KeyPrefix}{id}/lock</c> with it in a KV transaction. A session per
/// lock, rather than one per process, keeps two requests of the same process apart the way Consul keeps processes apart
/// (Consul lets a session take a key it already holds), and lets a lease be lost, or destroyed by an operator, one lock at
/// a time. Disposing the lock deletes the key if the session still holds it, then destroys the session in the background.
/// </para>
/// <para>
/// A request that finds the upload held queues: it writes <c>{KeyPrefix}{id}/wait/{session}</c> with its own session and
/// waits with blocking queries on the upload's folder (never by polling, except for the short retries while Consul's lock
/// delay runs after an invalidation). The holder's own blocking query sees the queued key and fires
/// <see cref="ITusLock.ReleaseRequested"/>, in whichever process it runs. A free lock goes to the oldest waiting session
/// (by its key's CreateIndex), so a holder that lets go and asks again queues behind those already waiting. The queue
/// entry and the lock are taken in one transaction.
/// </para>
/// <para>
/// <see cref="ITusLock.Lost"/> fires when the holder's watch sees its lock key deleted or held by another session (the
/// session was invalidated), when Consul answers a renewal with "not found", or when no renewal has succeeded for half the
/// TTL, which is before Consul may invalidate the session. Consul's lock delay (<see cref="ConsulLockerOptions.LockDelay"/>)
/// keeps the key from anyone else for a while after an invalidation, so the old holder stops before the next starts.
/// <see cref="ITusLock.FencingToken"/> is the ModifyIndex of the write that took the key: Consul's Raft index, larger for
/// every later grant in the cluster. (Consul's LockIndex starts over when a key is deleted, which this locker does on
/// every release.) A Consul agent in <c>-dev</c> mode forgets everything, indexes included, when it restarts.
/// </para>
/// <para>
/// When Consul cannot be reached, acquires fail at once with <see cref="ConsulUnavailableException"/> (503
/// <c>ERR_LOCKER_UNAVAILABLE</c>); held locks fire Lost once their sessions cannot be renewed; nothing throws on a
/// background thread. Dispose the locker (the host does) to destroy the sessions of locks still held.
/// </para>
/// <para>All members are thread-safe.</para>
/// </remarks>
public sealed class ConsulLocker : ITusLocker, IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<ConsulSession, byte> _sessions = new();
    private readonly ConcurrentDictionary<Task, byte> _cleanups = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _holderValue;
    private int _disposed;

    /// <summary>Creates a locker with the system clock and no logging.</summary>
    /// <param name="options">The options; copied, so later changes do not affect the locker.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message lists every problem).</exception>
    public ConsulLocker(ConsulLockerOptions options)
        : this(options, TimeProvider.System, NullLogger<ConsulLocker>.Instance)
    {
    }

    /// <summary>Creates a locker.</summary>
    /// <param name="options">The options; copied, so later changes do not affect the locker.</param>
    /// <param name="timeProvider">The clock for renewals and deadlines.</param>
    /// <param name="logger">Where lost leases and failed calls are logged.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message lists every problem).</exception>
    public ConsulLocker(ConsulLockerOptions options, TimeProvider timeProvider, ILogger<ConsulLocker> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Consul locker options: " + string.Join(" ", problems), nameof(options));
        }

        Options = options.Clone();
        Time = timeProvider;
        Logger = logger;
        Client = new ConsulClient(new Uri(Options.ResolveAddress()), Options.ResolveToken(), Options.RequestTimeout);
        Holder = Environment.MachineName + "/" + Environment.ProcessId;
        _holderValue = Encoding.UTF8.GetBytes(Holder);
    }

    /// <summary>The address of Consul's HTTP API this locker talks to.</summary>
    public Uri Address => Client.Address;

    internal ConsulLockerOptions Options { get; }

    /// <summary>Fires when the locker is disposed: the watches of locks still held stop.</summary>
    internal CancellationToken Stopping => _stopping.Token;

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal ConsulClient Client { get; }

    /// <summary>This process, as written into lock keys and session names for operators.</summary>
    internal string Holder { get; }

    /// <summary>How long a blocking query waits at most before it is asked again.</summary>
    internal TimeSpan WatchWait { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The pause before a failed watch or renewal is tried again, and between attempts during a lock delay.</summary>
    internal TimeSpan RetryInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Sessions alive (renewed) right now, for tests.</summary>
    internal int SessionCount => _sessions.Count;

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="uploadId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ConsulUnavailableException">Consul could not be reached or refused a call.</exception>
    /// <exception cref="ObjectDisposedException">The locker was disposed.</exception>
    public async ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var keys = new LockKeys(Options.KeyPrefix, uploadId);

        // The listing and the session are asked for at once (one round trip less): a free upload is then taken with one
        // transaction, and a held one is queued for with the same session.
        var listed = Client.ListAsync(keys.Folder, 0, TimeSpan.Zero, cancellationToken);
        ConsulSession session;
        try
        {
            session = await CreateSessionAsync(uploadId, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The listing's own failure, if any, is the same story: observed here so it is not reported as unobserved.
            _ = listed.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }

        KvListing listing;
        try
        {
            listing = await listed.ConfigureAwait(false);
        }
        catch
        {
            DestroyInBackground(session);
            throw;
        }

        var mayHold = false;
        try
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Lost);
            var queued = false;
            while (true)
            {
                var holder = listing.Entries.FirstOrDefault(e => e.Key == keys.Lock && e.Session is not null);
                var waiters = listing.Entries.Where(e => keys.IsWaiter(e.Key) && e.Session is not null).OrderBy(e => e.CreateIndex).ToList();
                if (queued && !waiters.Any(w => w.Session == session.Id))
                {
                    throw new ConsulUnavailableException($"The queue entry of session {session.Id} for upload {uploadId} vanished: the session was invalidated while it waited.");
                }

                var myTurn = queued ? waiters[0].Session == session.Id : waiters.Count == 0;
                if (holder is null && myTurn)
                {
                    List<TxnOperation> take = [LockOperation(keys.Lock, session.Id, _holderValue)];
                    if (queued)
                    {
                        take.Add(new TxnOperation { KV = new TxnKv { Verb = "delete", Key = keys.Waiter(session.Id) } });
                    }

                    mayHold = true;
                    var outcome = await Client.TransactAsync(take, waiting.Token).ConfigureAwait(false);
                    if (outcome.Succeeded)
                    {
                        var held = new ConsulLock(this, session, keys, outcome.Results[0].KV?.ModifyIndex ?? 0);
                        held.Start(othersWaiting: waiters.Any(w => w.Session != session.Id));
                        mayHold = false;
                        return held;
                    }

                    mayHold = false;
                    if (outcome.RefusedByLockDelay)
                    {
                        // The only wait that polls: nothing in the folder changes when a lock delay ends.
                        await Task.Delay(RetryInterval, Time, waiting.Token).ConfigureAwait(false);
                        listing = await Client.ListAsync(keys.Folder, 0, TimeSpan.Zero, waiting.Token).ConfigureAwait(false);
                        continue;
                    }
                }

                if (!queued)
                {
                    var entered = await Client.TransactAsync([LockOperation(keys.Waiter(session.Id), session.Id, _holderValue)], waiting.Token).ConfigureAwait(false);
                    if (!entered.Succeeded)
                    {
                        throw new ConsulUnavailableException($"Session {session.Id} could not queue for upload {uploadId}: {entered.Refusal}");
                    }

                    queued = true;
                    listing = await Client.ListAsync(keys.Folder, 0, TimeSpan.Zero, waiting.Token).ConfigureAwait(false);
                    continue;
                }

                listing = await Client.ListAsync(keys.Folder, Math.Max(listing.Index, 1), WatchWait, waiting.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (session.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Abandon(session, keys, mayHold);
            throw new ConsulUnavailableException($"The session of a request waiting for upload {uploadId} was lost; see the log for why.");
        }
        catch
        {
            Abandon(session, keys, mayHold);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>Lists the upload's folder and takes the lock only when it has neither holder nor waiter; it never queues,
    /// so no holder is ever asked to release.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="uploadId"/> is <see langword="null"/>.</exception>
    /// <exception cref="ConsulUnavailableException">Consul could not be reached or refused a call.</exception>
    /// <exception cref="ObjectDisposedException">The locker was disposed.</exception>
    public async ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var keys = new LockKeys(Options.KeyPrefix, uploadId);
        var listing = await Client.ListAsync(keys.Folder, 0, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        if (listing.Entries.Any(e => e.Session is not null))
        {
            return null;
        }

        var session = await CreateSessionAsync(uploadId, cancellationToken).ConfigureAwait(false);
        try
        {
            var outcome = await Client.TransactAsync([LockOperation(keys.Lock, session.Id, _holderValue)], cancellationToken).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                Abandon(session, keys, mayHold: false);
                return null;
            }

            var held = new ConsulLock(this, session, keys, outcome.Results[0].KV?.ModifyIndex ?? 0);
            held.Start(othersWaiting: false);
            return held;
        }
        catch
        {
            Abandon(session, keys, mayHold: true);
            throw;
        }
    }

    /// <summary>Destroys the sessions of locks still held (their keys are deleted) and waits for pending clean-ups.</summary>
    /// <returns>A task that completes when the locker is shut down.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var session in _sessions.Keys)
        {
            // Their keys go with their sessions: whoever still holds a lock is told it no longer does.
            session.MarkLost("the locker was disposed");
            DestroyInBackground(session);
        }

        try
        {
            await Task.WhenAll(_cleanups.Keys).WaitAsync(Options.RequestTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Sessions that could not be destroyed expire on their own after their TTL.
        }

        Client.Dispose();
    }

    /// <summary>Disposes the locker synchronously; prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Checks that Consul answers, has a leader and lets this token create and destroy a session.</summary>
    /// <returns>A sentence naming the problem, or <see langword="null"/> when all is well.</returns>
    internal async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var leader = await Client.LeaderAsync(cancellationToken).ConfigureAwait(false);
            if (leader.Length == 0)
            {
                return $"ConsulLockerOptions.Address: Consul at {Address} answers but has no leader, so it cannot grant locks.";
            }

            var session = await CreateSessionAsync("startup-check", cancellationToken).ConfigureAwait(false);
            await session.StopAsync().ConfigureAwait(false);
            _sessions.TryRemove(session, out _);
            await Client.DestroySessionAsync(session.Id, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (ConsulUnavailableException exception)
        {
            return $"ConsulLockerOptions.Address / Token: {exception.Message}";
        }
    }

    /// <summary>Waits <see cref="RetryInterval"/>; <see langword="false"/> when <paramref name="cancellationToken"/> fired.</summary>
    internal async ValueTask<bool> PauseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(RetryInterval, Time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Deletes the lock key if <paramref name="session"/> still holds it. Never throws: a key left behind goes
    /// with its session (destroyed next, or expired).</summary>
    internal async Task ReleaseKeyAsync(ConsulSession session, LockKeys keys)
    {
        try
        {
            var outcome = await Client.TransactAsync(
                [
                    new TxnOperation { KV = new TxnKv { Verb = "check-session", Key = keys.Lock, Session = session.Id } },
                    new TxnOperation { KV = new TxnKv { Verb = "delete", Key = keys.Lock } },
                ],
                CancellationToken.None).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                ConsulLog.ReleaseRefused(Logger, keys.UploadId, session.Id, outcome.Refusal ?? "");
            }
        }
        catch (ConsulUnavailableException exception)
        {
            ConsulLog.ReleaseFailed(Logger, exception, keys.UploadId, session.Id);
        }
    }

    /// <summary>Destroys a session off the request's path; tracked so that disposing the locker waits for it.</summary>
    internal void DestroyInBackground(ConsulSession session)
    {
        if (!_sessions.TryRemove(session, out _))
        {
            return;
        }

        var cleanup = Task.Run(async () =>
        {
            try
            {
                await session.DestroyAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (ConsulUnavailableException exception)
            {
                // Not renewed any more, it expires after its TTL and Consul deletes whatever it held.
                ConsulLog.DestroyFailed(Logger, exception, session.Id);
            }
        });
        _cleanups.TryAdd(cleanup, 0);
        _ = cleanup.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _), _cleanups, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task<ConsulSession> CreateSessionAsync(string uploadId, CancellationToken cancellationToken)
    {
        var session = await ConsulSession.CreateAsync(this, uploadId, cancellationToken).ConfigureAwait(false);
        _sessions.TryAdd(session, 0);
        if (_disposed != 0)
        {
            DestroyInBackground(session);
            throw new ObjectDisposedException(nameof(ConsulLocker));
        }

        return session;
    }

    /// <summary>Gives up an acquire: deletes the lock key if a transaction that may have taken it was interrupted (so
    /// that no lock delay follows), then destroys the session, which takes its queue entry with it.</summary>
    private void Abandon(ConsulSession session, LockKeys keys, bool mayHold)
    {
        if (!mayHold)
        {
            DestroyInBackground(session);
            return;
        }

        var release = Task.Run(async () =>
        {
            await ReleaseKeyAsync(session, keys).ConfigureAwait(false);
            DestroyInBackground(session);
        });
        _cleanups.TryAdd(release, 0);
        _ = release.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _), _cleanups, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static TxnOperation LockOperation(string key, string sessionId, byte[] value) =>
        new() { KV = new TxnKv { Verb = "lock", Key = key, Session = sessionId, Value = value } };
}
