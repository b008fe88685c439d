using Tus.Locking;

namespace Tus.Lockers.Memory.Tests;

public sealed class MemoryLockerTests : IDisposable
{
    // Long enough for a wrongly granted lock to show up; waits that must end are bounded by Patience instead.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly MemoryLocker _locker = new();

    // Every acquire gives up after a minute, so a lock that is never granted fails its test instead of hanging the run.
    private readonly CancellationTokenSource _guard = CreateGuard();

    private CancellationToken TestToken => _guard.Token;

    public void Dispose() => _guard.Dispose();

    private static CancellationTokenSource CreateGuard()
    {
        var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        guard.CancelAfter(TimeSpan.FromMinutes(1));
        return guard;
    }

    [Fact]
    public async Task AcquireAsync_Free_CompletesAtOnce()
    {
        var acquiring = _locker.AcquireAsync("a", TestToken);

        acquiring.IsCompletedSuccessfully.Should().BeTrue();
        await using var held = await acquiring;
        held.UploadId.Should().Be("a");
        _locker.EntryCount.Should().Be(1);
    }

    [Fact]
    public async Task AcquireAsync_SameIdWhileHeld_WaitsUntilReleased()
    {
        var first = await _locker.AcquireAsync("a", TestToken);

        var second = _locker.AcquireAsync("a", TestToken).AsTask();
        await Task.Delay(Settle, TestToken);
        second.IsCompleted.Should().BeFalse();

        await first.DisposeAsync();
        await using var held = await second.WaitAsync(Patience, TestToken);
        held.UploadId.Should().Be("a");
    }

    [Fact]
    public async Task AcquireAsync_DifferentIdsHeld_DoNotBlockEachOther()
    {
        await using var a = await _locker.AcquireAsync("a", TestToken);

        var acquiring = _locker.AcquireAsync("b", TestToken);

        acquiring.IsCompletedSuccessfully.Should().BeTrue();
        await using var b = await acquiring;
        a.ReleaseRequested.IsCancellationRequested.Should().BeFalse();
        _locker.EntryCount.Should().Be(2);
    }

    [Fact]
    public async Task AcquireAsync_IdsDifferingInCase_AreDifferentUploads()
    {
        await using var lower = await _locker.AcquireAsync("abc", TestToken);

        var upper = _locker.AcquireAsync("ABC", TestToken);

        upper.IsCompletedSuccessfully.Should().BeTrue();
        await using var held = await upper;
    }

    [Fact]
    public async Task AcquireAsync_NullId_ThrowsArgumentNullException()
    {
        var act = async () => await _locker.AcquireAsync(null!, TestToken);

        await act.Should().ThrowAsync<ArgumentNullException>();
    }

    [Fact]
    public async Task ReleaseRequested_NoOtherRequest_DoesNotFire()
    {
        await using var held = await _locker.AcquireAsync("a", TestToken);
        var token = held.ReleaseRequested;

        await using (await _locker.AcquireAsync("b", TestToken))
        {
        }

        token.IsCancellationRequested.Should().BeFalse();
        held.ReleaseRequested.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task ReleaseRequested_ReadBeforeAnotherRequestWaits_FiresWhenItWaits()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        var token = held.ReleaseRequested;
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = token.Register(() => fired.TrySetResult());

        var waiting = _locker.AcquireAsync("a", TestToken).AsTask();

        token.IsCancellationRequested.Should().BeTrue();
        await fired.Task.WaitAsync(Patience, TestToken);
        waiting.IsCompleted.Should().BeFalse();
        await held.DisposeAsync();
        await using var next = await waiting.WaitAsync(Patience, TestToken);
    }

    [Fact]
    public async Task ReleaseRequested_ReadAfterAnotherRequestWaits_HasFired()
    {
        var held = await _locker.AcquireAsync("a", TestToken);

        var waiting = _locker.AcquireAsync("a", TestToken).AsTask();

        held.ReleaseRequested.IsCancellationRequested.Should().BeTrue();
        await held.DisposeAsync();
        await using var next = await waiting.WaitAsync(Patience, TestToken);
    }

    [Fact]
    public async Task ReleaseRequested_HolderCallbackBlocks_DoesNotBlockTheWaitingRequest()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        using var callbackMayReturn = new ManualResetEventSlim();
        using var registration = held.ReleaseRequested.Register(() => callbackMayReturn.Wait(Patience));

        // StartNew does not unwrap: the outer task ends when AcquireAsync returns, not when the lock is granted.
        var acquiring = Task.Factory.StartNew(
            () => _locker.AcquireAsync("a", TestToken).AsTask(),
            TestToken,
            TaskCreationOptions.None,
            TaskScheduler.Default);

        // If the holder's callbacks ran on the acquiring thread, AcquireAsync would not return before the callback.
        var waiting = await acquiring.WaitAsync(Patience / 2, TestToken);
        callbackMayReturn.Set();
        await held.DisposeAsync();
        await using var next = await waiting.WaitAsync(Patience, TestToken);
    }

    [Fact]
    public async Task ReleaseRequested_HandedOnWithMoreWaitersQueued_HasFiredForTheNewHolder()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        var second = _locker.AcquireAsync("a", TestToken).AsTask();
        var third = _locker.AcquireAsync("a", TestToken).AsTask();

        await held.DisposeAsync();
        var secondHeld = await second.WaitAsync(Patience, TestToken);

        secondHeld.ReleaseRequested.IsCancellationRequested.Should().BeTrue();
        await secondHeld.DisposeAsync();
        await using var thirdHeld = await third.WaitAsync(Patience, TestToken);
        thirdHeld.ReleaseRequested.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task ReleaseRequested_FiredOnceThenReleased_DoesNotCarryOverToTheNextHolder()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        var waiting = _locker.AcquireAsync("a", TestToken).AsTask();
        await held.DisposeAsync();
        var next = await waiting.WaitAsync(Patience, TestToken);
        await next.DisposeAsync();

        await using var fresh = await _locker.AcquireAsync("a", TestToken);

        fresh.ReleaseRequested.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task Lost_UnderContentionAndAfterRelease_NeverFires()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        var lost = held.Lost;

        var waiting = _locker.AcquireAsync("a", TestToken).AsTask();
        await held.DisposeAsync();
        await using var next = await waiting.WaitAsync(Patience, TestToken);

        lost.CanBeCanceled.Should().BeFalse();
        lost.IsCancellationRequested.Should().BeFalse();
        held.Lost.Should().Be(CancellationToken.None);
        next.Lost.Should().Be(CancellationToken.None);
    }

    [Fact]
    public async Task AcquireAsync_WaiterCanceled_ThrowsAndTheNextWaiterGetsTheLock()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var canceled = _locker.AcquireAsync("a", giveUp.Token).AsTask();
        var patient = _locker.AcquireAsync("a", TestToken).AsTask();

        await giveUp.CancelAsync();

        await FluentActions.Awaiting(() => canceled.WaitAsync(Patience, TestToken))
            .Should().ThrowAsync<OperationCanceledException>();
        patient.IsCompleted.Should().BeFalse();
        await held.DisposeAsync();
        await using var next = await patient.WaitAsync(Patience, TestToken);
        canceled.IsCanceled.Should().BeTrue();
    }

    [Fact]
    public async Task AcquireAsync_OnlyWaiterCanceled_LockStaysAcquirableAndNoEntryRemains()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var canceled = _locker.AcquireAsync("a", giveUp.Token).AsTask();

        await giveUp.CancelAsync();
        await FluentActions.Awaiting(() => canceled.WaitAsync(Patience, TestToken))
            .Should().ThrowAsync<OperationCanceledException>();
        await held.DisposeAsync();

        _locker.EntryCount.Should().Be(0);
        await (await AcquireAtOnceAsync("a")).DisposeAsync();
        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task AcquireAsync_PreCanceledTokenWhenFree_ThrowsWithoutAcquiring()
    {
        var acquiring = _locker.AcquireAsync("a", new CancellationToken(canceled: true));

        acquiring.IsCanceled.Should().BeTrue();
        await FluentActions.Awaiting(async () => await acquiring).Should().ThrowAsync<OperationCanceledException>();
        _locker.EntryCount.Should().Be(0);
        await (await AcquireAtOnceAsync("a")).DisposeAsync();
    }

    [Fact]
    public async Task AcquireAsync_PreCanceledTokenWhileHeld_ThrowsWithoutQueuingOrRequestingRelease()
    {
        var held = await _locker.AcquireAsync("a", TestToken);

        var act = async () => await _locker.AcquireAsync("a", new CancellationToken(canceled: true));

        await act.Should().ThrowAsync<OperationCanceledException>();
        held.ReleaseRequested.IsCancellationRequested.Should().BeFalse();
        await held.DisposeAsync();
        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task AcquireAsync_CancelAfterWhileHeld_TimesOutAndTheHolderKeepsTheLock()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(50));

        var act = () => _locker.AcquireAsync("a", timeout.Token).AsTask().WaitAsync(Patience, TestToken);

        (await act.Should().ThrowAsync<OperationCanceledException>()).Which.CancellationToken.Should().Be(timeout.Token);
        var waiting = _locker.AcquireAsync("a", TestToken).AsTask();
        await Task.Delay(Settle, TestToken);
        waiting.IsCompleted.Should().BeFalse();
        await held.DisposeAsync();
        await using var next = await waiting.WaitAsync(Patience, TestToken);
    }

    [Fact]
    public async Task AcquireAsync_TwentyWaiters_GrantedInArrivalOrder()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        var order = new List<int>();
        var waiters = Enumerable.Range(0, 20).Select(i => WaitThenRecordAsync(i)).ToList();

        await held.DisposeAsync();
        await Task.WhenAll(waiters).WaitAsync(Patience, TestToken);

        order.Should().Equal(Enumerable.Range(0, 20));
        _locker.EntryCount.Should().Be(0);

        async Task WaitThenRecordAsync(int index)
        {
            // AcquireAsync queues synchronously, so the calls above arrive in index order.
            var acquiring = _locker.AcquireAsync("a", TestToken);
            await using var mine = await acquiring;
            lock (order)
            {
                order.Add(index);
            }

            await Task.Yield();
        }
    }

    [Fact]
    public async Task AcquireAsync_NewcomerWhileLockIsHandedOn_QueuesBehindTheWaiter()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        var waiter = _locker.AcquireAsync("a", TestToken).AsTask();

        await held.DisposeAsync();
        var newcomer = _locker.AcquireAsync("a", TestToken).AsTask();

        var waiterHeld = await waiter.WaitAsync(Patience, TestToken);
        await Task.Delay(Settle, TestToken);
        newcomer.IsCompleted.Should().BeFalse();
        waiterHeld.ReleaseRequested.IsCancellationRequested.Should().BeTrue();
        await waiterHeld.DisposeAsync();
        await using var newcomerHeld = await newcomer.WaitAsync(Patience, TestToken);
    }

    [Fact]
    public async Task DisposeAsync_WaiterBlocksInItsContinuation_ReturnsWithoutRunningIt()
    {
        var held = await _locker.AcquireAsync("a", TestToken);
        using var continuationMayReturn = new ManualResetEventSlim();
        var waiting = _locker.AcquireAsync("a", TestToken).AsTask();
        var continuation = waiting.ContinueWith(
            _ => continuationMayReturn.Wait(Patience),
            TestToken,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        // Were the waiter's continuation run inline by the release, DisposeAsync would not return before it.
        await Task.Run(async () => await held.DisposeAsync(), TestToken).WaitAsync(Patience / 2, TestToken);
        continuationMayReturn.Set();
        await continuation.WaitAsync(Patience, TestToken);
        await (await waiting).DisposeAsync();
    }

    [Fact]
    public async Task DisposeAsync_Twice_DoesNotReleaseTheNextHolder()
    {
        var first = await _locker.AcquireAsync("a", TestToken);
        var second = _locker.AcquireAsync("a", TestToken).AsTask();
        await first.DisposeAsync();
        var secondHeld = await second.WaitAsync(Patience, TestToken);

        await first.DisposeAsync();

        var third = _locker.AcquireAsync("a", TestToken).AsTask();
        await Task.Delay(Settle, TestToken);
        third.IsCompleted.Should().BeFalse();
        await secondHeld.DisposeAsync();
        await secondHeld.DisposeAsync();
        var thirdHeld = await third.WaitAsync(Patience, TestToken);
        await thirdHeld.DisposeAsync();
        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task DisposeAsync_FromAnotherThread_ReleasesTheLock()
    {
        var held = await _locker.AcquireAsync("a", TestToken);

        await Task.Run(async () => await held.DisposeAsync(), TestToken);

        _locker.EntryCount.Should().Be(0);
        await (await AcquireAtOnceAsync("a")).DisposeAsync();
    }

    [Fact]
    public async Task EntryCount_ManyDistinctIdsLockedAndReleased_ReturnsToZero()
    {
        for (var i = 0; i < 1000; i++)
        {
            await using var held = await _locker.AcquireAsync($"upload-{i}", TestToken);
        }

        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task AcquireAsync_ManyTasksOnFewIds_KeepsMutualExclusionWithoutDeadlock()
    {
        const int Tasks = 8;
        const int Iterations = 2000;
        string[] ids = ["x", "y", "z"];
        var counters = new int[ids.Length];
        var inside = new int[ids.Length];
        var mostInside = 0;

        var workers = Enumerable.Range(0, Tasks).Select(worker => Task.Run(
            async () =>
            {
                for (var i = 0; i < Iterations; i++)
                {
                    var slot = (worker + i) % ids.Length;
                    await using var held = await _locker.AcquireAsync(ids[slot], TestToken);
                    var now = Interlocked.Increment(ref inside[slot]);
                    InterlockedMax(ref mostInside, now);

                    // A read-yield-write that loses updates unless holders of the same id never overlap.
                    var before = counters[slot];
                    if (i % 8 == 0)
                    {
                        await Task.Yield();
                    }
                    else
                    {
                        Thread.SpinWait(20);
                    }

                    counters[slot] = before + 1;
                    _ = held.ReleaseRequested.IsCancellationRequested;
                    Interlocked.Decrement(ref inside[slot]);
                }
            },
            TestToken));

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30), TestToken);

        mostInside.Should().Be(1);
        var expected = new int[ids.Length];
        for (var worker = 0; worker < Tasks; worker++)
        {
            for (var i = 0; i < Iterations; i++)
            {
                expected[(worker + i) % ids.Length]++;
            }
        }

        counters.Should().Equal(expected);
        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task AcquireAsync_WaitersCancelingWhileOthersRelease_LeavesNothingBehind()
    {
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(
            async () =>
            {
                for (var i = 0; i < 500; i++)
                {
                    using var impatient = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
                    impatient.CancelAfter(TimeSpan.FromTicks(Random.Shared.Next(0, 20_000)));
                    ITusLock held;
                    try
                    {
                        held = await _locker.AcquireAsync("a", impatient.Token);
                    }
                    catch (OperationCanceledException) when (impatient.IsCancellationRequested)
                    {
                        continue;
                    }

                    await Task.Yield();
                    await held.DisposeAsync();
                }
            },
            TestToken));

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30), TestToken);

        _locker.EntryCount.Should().Be(0);
        await (await AcquireAtOnceAsync("a")).DisposeAsync();
    }

    [Fact]
    public async Task TryAcquireAsync_Free_CompletesAtOnceWithTheLock()
    {
        var attempt = _locker.TryAcquireAsync("a", TestToken);

        attempt.IsCompletedSuccessfully.Should().BeTrue();
        var held = await attempt;
        held.Should().NotBeNull();
        held!.UploadId.Should().Be("a");
        _locker.EntryCount.Should().Be(1);
        await held.DisposeAsync();
        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task TryAcquireAsync_HeldWithWaiters_ReturnsNullAtOnceWithoutQueuingOrSignalling()
    {
        var holder = await AcquireAtOnceAsync("a");
        var waiter = _locker.AcquireAsync("a", TestToken).AsTask();
        await Task.Delay(Settle, TestToken);
        var fired = 0;
        using var registration = holder.ReleaseRequested.Register(() => Interlocked.Increment(ref fired));

        var attempt = _locker.TryAcquireAsync("a", TestToken);

        attempt.IsCompletedSuccessfully.Should().BeTrue();
        (await attempt).Should().BeNull();
        await holder.DisposeAsync();
        var next = await waiter.WaitAsync(Patience, TestToken);
        next.ReleaseRequested.IsCancellationRequested.Should().BeFalse("the failed TryAcquireAsync must not have queued behind the waiter");
        await next.DisposeAsync();
        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task TryAcquireAsync_PreCanceledToken_ThrowsWithoutAcquiring()
    {
        var attempt = _locker.TryAcquireAsync("a", new CancellationToken(canceled: true));

        attempt.IsCanceled.Should().BeTrue();
        _locker.EntryCount.Should().Be(0);
        await (await AcquireAtOnceAsync("a")).DisposeAsync();
    }

    [Fact]
    public async Task TryAcquireAsync_OnlyWaiterCanceled_AcquiresOnceTheHolderReleases()
    {
        var holder = await AcquireAtOnceAsync("a");
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var waiter = _locker.AcquireAsync("a", giveUp.Token).AsTask();
        await giveUp.CancelAsync();
        await FluentActions.Awaiting(() => waiter).Should().ThrowAsync<OperationCanceledException>();

        await holder.DisposeAsync();
        var held = await _locker.TryAcquireAsync("a", TestToken);

        held.Should().NotBeNull("the canceled waiter must have left nothing behind");
        await held!.DisposeAsync();
        _locker.EntryCount.Should().Be(0);
    }

    [Fact]
    public async Task FencingToken_AcquireTryAcquireAndHandOffAcrossIds_OnlyGrows()
    {
        var tokens = new List<long>();
        var first = await AcquireAtOnceAsync("a");
        tokens.Add(first.FencingToken);
        await first.DisposeAsync();
        var other = (await _locker.TryAcquireAsync("b", TestToken))!;
        tokens.Add(other.FencingToken);
        var tried = (await _locker.TryAcquireAsync("a", TestToken))!;
        tokens.Add(tried.FencingToken);
        var waiting = _locker.AcquireAsync("a", TestToken).AsTask();
        await tried.DisposeAsync();
        var handedOn = await waiting.WaitAsync(Patience, TestToken);
        tokens.Add(handedOn.FencingToken);
        await handedOn.DisposeAsync();
        await other.DisposeAsync();
        var again = await AcquireAtOnceAsync("a");
        tokens.Add(again.FencingToken);
        await again.DisposeAsync();

        tokens.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        _locker.EntryCount.Should().Be(0);
    }

    private async Task<ITusLock> AcquireAtOnceAsync(string uploadId)
    {
        var acquiring = _locker.AcquireAsync(uploadId, TestToken);
        acquiring.IsCompletedSuccessfully.Should().BeTrue();
        return await acquiring;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
