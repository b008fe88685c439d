using Tus.Locking;

namespace Tus.Lockers.Consul.Internal;

/// <summary>
/// One holding of an upload's lock: the lock key held by this lock's own session. A watch (a blocking query on the
/// upload's KV folder) fires <see cref="ReleaseRequested"/> when another session queues for the upload and
/// <see cref="Lost"/> when the lock key is no longer held by the session; the session itself fires Lost when it cannot be
/// renewed.
/// </summary>
internal sealed class ConsulLock : ITusLock
{
    private readonly ConsulLocker _owner;
    private readonly ConsulSession _session;
    private readonly LockKeys _keys;
    private readonly CancellationTokenSource _releaseRequested = new();
    private readonly CancellationTokenSource _lost;
    private readonly CancellationTokenSource _stopWatch = new();
    private Task _watching = Task.CompletedTask;
    private int _disposed;

    public ConsulLock(ConsulLocker owner, ConsulSession session, LockKeys keys, long fencingToken)
    {
        _owner = owner;
        _session = session;
        _keys = keys;
        FencingToken = fencingToken;
        _lost = CancellationTokenSource.CreateLinkedTokenSource(session.Lost);
    }

    public string UploadId => _keys.UploadId;

    public CancellationToken ReleaseRequested => _releaseRequested.Token;

    public CancellationToken Lost => _lost.Token;

    /// <summary>The ModifyIndex of the write that took the lock key: Consul's Raft index, which grows with every write to
    /// the cluster, so every later grant of this upload (to any process) has a larger one.</summary>
    public long FencingToken { get; }

    /// <summary>The session that holds the lock key, for tests that invalidate it.</summary>
    internal string SessionId => _session.Id;

    /// <summary>Starts watching the upload's folder.</summary>
    /// <param name="othersWaiting">Whether the listing the lock was taken on showed other waiters already.</param>
    public void Start(bool othersWaiting)
    {
        if (othersWaiting)
        {
            RequestRelease();
        }

        _watching = WatchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // The watch stops before the key goes, so that it never takes our own release for a lost lease.
        await _stopWatch.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        if (!_lost.IsCancellationRequested)
        {
            await _owner.ReleaseKeyAsync(_session, _keys).ConfigureAwait(false);
        }

        _owner.DestroyInBackground(_session);

        // _lost and _releaseRequested stay undisposed: callers may still read their tokens, and they hold no timer.
        _stopWatch.Dispose();
    }

    private void RequestRelease()
    {
        if (!_releaseRequested.IsCancellationRequested)
        {
            _ = _releaseRequested.CancelAsync();
        }
    }

    private void MarkLost(string reason)
    {
        if (_lost.IsCancellationRequested)
        {
            return;
        }

        ConsulLog.LockLost(_owner.Logger, UploadId, _session.Id, reason);
        _ = _lost.CancelAsync();
    }

    private async Task WatchAsync()
    {
        // Index 0 first: a listing now, so that a waiter that queued between the listing the lock was taken on and the
        // taking itself (whose write has a lower index than ours) is seen at once.
        var index = 0L;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopWatch.Token, _lost.Token, _owner.Stopping);
        while (true)
        {
            KvListing listing;
            try
            {
                listing = await _owner.Client.ListAsync(_keys.Folder, index, _owner.WatchWait, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (ConsulUnavailableException exception)
            {
                // The session's deadline decides when an unreachable Consul means a lost lease; the watch just retries.
                ConsulLog.WatchFailed(_owner.Logger, exception, UploadId);
                if (!await _owner.PauseAsync(stop.Token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (_stopWatch.IsCancellationRequested)
            {
                return;
            }

            if (!listing.Entries.Any(e => e.Key == _keys.Lock && e.Session == _session.Id))
            {
                MarkLost("its lock key is no longer held by its session");
                return;
            }

            if (listing.Entries.Any(e => _keys.IsWaiter(e.Key) && e.Session is not null && e.Session != _session.Id))
            {
                RequestRelease();
            }

            // Consul's rule for blocking queries: an index that went backwards (a restored or restarted cluster) starts over.
            if (listing.Index <= 0)
            {
                if (!await _owner.PauseAsync(stop.Token).ConfigureAwait(false))
                {
                    return;
                }

                index = 0;
            }
            else
            {
                index = listing.Index < index ? 0 : listing.Index;
            }
        }
    }
}

/// <summary>The KV keys of one upload: <c>{prefix}{id}/lock</c> and <c>{prefix}{id}/wait/{session}</c>.</summary>
internal sealed class LockKeys
{
    public LockKeys(string prefix, string uploadId)
    {
        UploadId = uploadId;
        Folder = prefix + Uri.EscapeDataString(uploadId) + "/";
        Lock = Folder + "lock";
        WaitFolder = Folder + "wait/";
    }

    public string UploadId { get; }

    /// <summary>The upload's folder, with a trailing slash, so that it never lists another upload's keys.</summary>
    public string Folder { get; }

    public string Lock { get; }

    public string WaitFolder { get; }

    public string Waiter(string sessionId) => WaitFolder + sessionId;

    public bool IsWaiter(string key) => key.StartsWith(WaitFolder, StringComparison.Ordinal);
}
