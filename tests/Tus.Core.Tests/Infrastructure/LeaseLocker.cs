using System.Collections.Concurrent;
using Tus.Lockers.Memory;
using Tus.Locking;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>The memory locker, with leases a test can lose (as a distributed locker's can be) and every grant kept.</summary>
internal sealed class LeaseLocker(CallLog? log = null) : ITusLocker
{
    private readonly MemoryLocker _inner = new();

    public ConcurrentQueue<LeaseLock> Granted { get; } = new();

    /// <summary>Completed with the first lock a request (not the sweeper) was granted.</summary>
    public TaskCompletionSource<LeaseLock> FirstGranted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        var granted = new LeaseLock(await _inner.AcquireAsync(uploadId, cancellationToken), log);
        Granted.Enqueue(granted);
        FirstGranted.TrySetResult(granted);
        return granted;
    }

    public async ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        log?.Add("TryAcquire");
        var inner = await _inner.TryAcquireAsync(uploadId, cancellationToken);
        if (inner is null)
        {
            return null;
        }

        var granted = new LeaseLock(inner, log);
        Granted.Enqueue(granted);
        return granted;
    }
}

/// <summary>A held lock whose lease the test can lose.</summary>
internal sealed class LeaseLock(ITusLock inner, CallLog? log) : ITusLock
{
    private readonly CancellationTokenSource _lost = new();

    public string UploadId => inner.UploadId;

    public CancellationToken ReleaseRequested => inner.ReleaseRequested;

    public CancellationToken Lost => _lost.Token;

    public long FencingToken => inner.FencingToken;

    public bool WasReleaseRequested => inner.ReleaseRequested.IsCancellationRequested;

    public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The lease runs out: <see cref="Lost"/> fires.</summary>
    public void Lose()
    {
        log?.Add("LOST");
        _lost.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        Released.TrySetResult();
    }
}
