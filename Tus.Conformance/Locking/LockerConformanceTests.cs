using System.Diagnostics;
using Tus.Locking;
using Tus.Protocol;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The locker contract (<see cref="ITusLocker"/>, <see cref="ITusLock"/>): mutual exclusion, release requests that reach
/// every holder (including one handed the lock while others wait), waits that honour cancellation and timeouts, lost
/// leases signalled, every waiter served under contention (no starvation, no lost wake-ups), disposal that releases
/// exactly once, a <see cref="ITusLocker.TryAcquireAsync"/> that never disturbs a holder, and fencing tokens that grow
/// with every holder. Locks are taken through the fixture's
/// locker and its peer (<see cref="ILockerFixture.CreatePeerAsync"/>), so a distributed locker is proven across clients.
/// </summary>
/// <remarks>Waits that must end are bounded by <see cref="Patience"/>, so a broken locker fails its test instead of
/// hanging the run; "nothing happens" is checked over <see cref="Settle"/>.</remarks>
/// <typeparam name="TFixture">The fixture that creates the locker under test.</typeparam>
public abstract class LockerConformanceTests<TFixture> : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : class, ILockerFixture
{
    private ITusLocker? _locker;
    private ITusLocker? _peer;

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the locker under test.</param>
    protected LockerConformanceTests(TFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        Fixture = fixture;
    }

    /// <summary>How long a wait that must end may take before the test fails. Default: 10 seconds; a distributed locker
    /// with slow round trips may need more.</summary>
    protected virtual TimeSpan Patience => TimeSpan.FromSeconds(10);

    /// <summary>How long the suites watch for something that must not happen (a wrong grant, a spurious signal).
    /// Default: 150 ms.</summary>
    protected virtual TimeSpan Settle => TimeSpan.FromMilliseconds(150);

    /// <summary>The fixture.</summary>
    protected TFixture Fixture { get; }

    /// <summary>The running test's locker.</summary>
    /// <exception cref="InvalidOperationException">Read outside a test.</exception>
    protected ITusLocker Locker => _locker ?? throw new InvalidOperationException("The locker exists only while a test runs: InitializeAsync creates it.");

    /// <summary>A locker sharing <see cref="Locker"/>'s locks, as another server process would (possibly the same instance).</summary>
    /// <exception cref="InvalidOperationException">Read outside a test.</exception>
    protected ITusLocker Peer => _peer ?? throw new InvalidOperationException("The peer exists only while a test runs: InitializeAsync creates it.");

    /// <summary>The running test's cancellation token, passed to every call.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates the test's locker and its peer.</summary>
    public virtual async ValueTask InitializeAsync()
    {
        _locker = await Fixture.CreateLockerAsync(Ct);
        _peer = await Fixture.CreatePeerAsync(_locker, Ct);
    }

    /// <summary>Hands the test's lockers back to the fixture.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        var (locker, peer) = (_locker, _peer);
        (_locker, _peer) = (null, null);
        if (locker is not null)
        {
            await Fixture.DisposeLockerAsync(locker, CancellationToken.None);
        }

        if (peer is not null && !ReferenceEquals(peer, locker))
        {
            await Fixture.DisposeLockerAsync(peer, CancellationToken.None);
        }
    }

    /// <summary>A free upload's lock is granted, for that upload, with neither signal fired.</summary>
    [Fact]
    public virtual async Task AcquireAsync_FreeUpload_GrantsTheLock()
    {
        var id = UploadId.New();

        var held = await AcquireWithinAsync(Locker, id, "a free upload");

        Assert.Equal(id, held.UploadId);
        Assert.False(held.ReleaseRequested.IsCancellationRequested, "ReleaseRequested has fired on a lock nobody else asked for.");
        Assert.False(held.Lost.IsCancellationRequested, "Lost has fired on a lock just granted.");
        await held.DisposeAsync();
    }

    /// <summary>While one holder has an upload's lock, another acquire waits; it is granted once the holder releases.</summary>
    [Fact]
    public virtual async Task AcquireAsync_HeldUpload_WaitsUntilTheHolderReleases()
    {
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");

        var waiting = Peer.AcquireAsync(id, Ct).AsTask();
        await AssertStillPendingAsync(waiting, "An acquire was granted while another holder had the lock.");
        await holder.DisposeAsync();
        var next = await WithinAsync(waiting, "the waiting acquire after the holder released");

        Assert.Equal(id, next.UploadId);
        await next.DisposeAsync();
    }

    /// <summary>Locks of different uploads are independent.</summary>
    [Fact]
    public virtual async Task AcquireAsync_DifferentUploads_DoNotWaitForEachOther()
    {
        var first = await AcquireWithinAsync(Locker, UploadId.New(), "a free upload");

        var second = await AcquireWithinAsync(Peer, UploadId.New(), "another upload while the first is held");

        Assert.NotEqual(first.UploadId, second.UploadId);
        await first.DisposeAsync();
        await second.DisposeAsync();
    }

    /// <summary>Under heavy contention through both lockers, no two holders ever have the same upload at once.</summary>
    [Fact]
    public virtual async Task AcquireAsync_ManyContenders_NeverGrantsTwoHoldersAtOnce()
    {
        const int contenders = 6;
        const int rounds = 15;
        var id = UploadId.New();
        var inside = 0;
        var overlaps = 0;
        var entries = 0;

        var work = Enumerable.Range(0, contenders).Select(c => Task.Run(async () =>
        {
            var locker = c % 2 == 0 ? Locker : Peer;
            for (var round = 0; round < rounds; round++)
            {
                var held = await AcquireWithinAsync(locker, id, "a contended upload");
                await using (held)
                {
                    if (Interlocked.Increment(ref inside) > 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    Interlocked.Increment(ref entries);
                    await Task.Delay(1, Ct);
                    Interlocked.Decrement(ref inside);
                }
            }
        }));
        await WithinAsync(Task.WhenAll(work), "every contender to finish its rounds", TimeSpan.FromTicks(Patience.Ticks * 3));

        Assert.True(overlaps == 0, $"Two holders had the lock at the same time {overlaps} times in {entries} grants.");
        Assert.Equal(contenders * rounds, entries);
    }

    /// <summary>A request waiting for an upload makes the holder's <see cref="ITusLock.ReleaseRequested"/> fire.</summary>
    [Fact]
    public virtual async Task AcquireAsync_WhileHeld_RequestsReleaseFromTheHolder()
    {
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");
        Assert.False(holder.ReleaseRequested.IsCancellationRequested, "ReleaseRequested fired before anyone else asked for the upload.");

        var waiting = Peer.AcquireAsync(id, Ct).AsTask();
        await WithinAsync(WhenFired(holder.ReleaseRequested), "the holder's ReleaseRequested to fire once another request waits");

        await holder.DisposeAsync();
        await (await WithinAsync(waiting, "the waiting acquire after the holder released")).DisposeAsync();
    }

    /// <summary>With nobody waiting for its upload, a holder's ReleaseRequested stays quiet, even while other uploads are
    /// locked and released.</summary>
    [Fact]
    public virtual async Task ReleaseRequested_WithoutAWaiter_DoesNotFire()
    {
        var holder = await AcquireWithinAsync(Locker, UploadId.New(), "a free upload");

        for (var i = 0; i < 3; i++)
        {
            await (await AcquireWithinAsync(Peer, UploadId.New(), "another upload")).DisposeAsync();
        }

        await Task.Delay(Settle, Ct);
        Assert.False(holder.ReleaseRequested.IsCancellationRequested, "ReleaseRequested fired although nobody asked for the upload.");
        await holder.DisposeAsync();
    }

    /// <summary>A wait whose token fires throws <see cref="OperationCanceledException"/> and holds nothing: the lock goes
    /// to the next request once the holder releases.</summary>
    [Fact]
    public virtual async Task AcquireAsync_CancelledWhileWaiting_ThrowsAndHoldsNothing()
    {
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var waiting = Peer.AcquireAsync(id, giveUp.Token).AsTask();
        await AssertStillPendingAsync(waiting, "An acquire was granted while another holder had the lock.");

        await giveUp.CancelAsync();
        var exception = await Record.ExceptionAsync(() => WithinAsync(waiting, "the cancelled acquire to end"));

        Assert.True(exception is OperationCanceledException, $"A cancelled acquire ended with {exception?.GetType().Name ?? "a granted lock"} instead of an OperationCanceledException.");
        await holder.DisposeAsync();
        await (await AcquireWithinAsync(Locker, id, "the upload after the holder released and the other waiter gave up")).DisposeAsync();
    }

    /// <summary>An acquire with a token that has already fired throws <see cref="OperationCanceledException"/> and holds
    /// nothing, even for a free upload.</summary>
    [Fact]
    public virtual async Task AcquireAsync_TokenAlreadyCancelled_ThrowsAndHoldsNothing()
    {
        var id = UploadId.New();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var exception = await Record.ExceptionAsync(() => WithinAsync(Locker.AcquireAsync(id, cancelled.Token).AsTask(), "an acquire with a cancelled token to end"));

        Assert.True(exception is OperationCanceledException, $"An acquire with a cancelled token ended with {exception?.GetType().Name ?? "a granted lock"} instead of an OperationCanceledException.");
        await (await AcquireWithinAsync(Peer, id, "the upload after an acquire with a cancelled token")).DisposeAsync();
    }

    /// <summary>A wait with a timeout (the engine's lock timeout folded into the token) ends in time, and the holder keeps
    /// the lock: others still wait for it.</summary>
    [Fact]
    public virtual async Task AcquireAsync_TimeoutWhileHeld_EndsInTimeAndTheHolderKeepsTheLock()
    {
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        var exception = await Record.ExceptionAsync(() => WithinAsync(Peer.AcquireAsync(id, timeout.Token).AsTask(), "an acquire with a 300 ms timeout to end"));

        Assert.True(exception is OperationCanceledException, $"An acquire that timed out ended with {exception?.GetType().Name ?? "a granted lock"} instead of an OperationCanceledException.");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"An acquire with a 300 ms timeout took {clock.Elapsed.TotalMilliseconds:F0} ms to give up.");
        var later = Peer.AcquireAsync(id, Ct).AsTask();
        await AssertStillPendingAsync(later, "The lock was granted to another request although its holder never released it.");
        await holder.DisposeAsync();
        await (await WithinAsync(later, "the waiting acquire after the holder released")).DisposeAsync();
    }

    /// <summary>Disposing a lock releases it: the upload can be locked again at once, through either locker.</summary>
    [Fact]
    public virtual async Task DisposeAsync_HeldLock_ReleasesIt()
    {
        var id = UploadId.New();
        await (await AcquireWithinAsync(Locker, id, "a free upload")).DisposeAsync();

        var again = await AcquireWithinAsync(Peer, id, "the upload after its lock was disposed");
        await again.DisposeAsync();
        await (await AcquireWithinAsync(Locker, id, "the upload after its lock was disposed twice over")).DisposeAsync();
    }

    /// <summary>Disposing a released lock again is harmless: it does not release the lock of the next holder.</summary>
    [Fact]
    public virtual async Task DisposeAsync_Twice_DoesNotReleaseTheNextHolder()
    {
        var id = UploadId.New();
        var first = await AcquireWithinAsync(Locker, id, "a free upload");
        await first.DisposeAsync();
        var second = await AcquireWithinAsync(Peer, id, "the upload after its first holder released");

        await first.DisposeAsync();
        var third = Locker.AcquireAsync(id, Ct).AsTask();

        await AssertStillPendingAsync(third, "Disposing a released lock a second time released the next holder's lock.");
        await second.DisposeAsync();
        await (await WithinAsync(third, "the waiting acquire after the second holder released")).DisposeAsync();
    }

    /// <summary>
    /// A waiter is served even while the holder keeps re-acquiring the upload the moment it lets go: once the holder has
    /// been asked to release, the lock goes to the request already waiting, not back to the holder (no starvation).
    /// </summary>
    [Fact]
    public virtual async Task AcquireAsync_GreedyHolder_DoesNotStarveAWaiter()
    {
        var id = UploadId.New();
        var waiterServed = 0;
        var regained = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var greedy = Task.Run(async () =>
        {
            var held = await AcquireWithinAsync(Locker, id, "a free upload");
            started.TrySetResult();
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await Task.Delay(2, CancellationToken.None);

                    // Release and ask again at once, without yielding in between.
                    var asked = held.ReleaseRequested.IsCancellationRequested;
                    await held.DisposeAsync();
                    held = await Locker.AcquireAsync(id, stop.Token);
                    if (asked && Volatile.Read(ref waiterServed) == 0)
                    {
                        Interlocked.Increment(ref regained);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            await held.DisposeAsync();
        });
        await WithinAsync(started.Task, "the greedy holder to take the lock");

        var waiter = await Record.ExceptionAsync(async () =>
        {
            var held = await AcquireWithinAsync(Peer, id, "an upload a greedy holder keeps re-acquiring", Patience / 2);
            Volatile.Write(ref waiterServed, 1);
            await held.DisposeAsync();
        });
        await stop.CancelAsync();
        await WithinAsync(greedy, "the greedy holder to stop");

        Assert.True(waiter is null, $"A waiter never got the lock while another client kept re-acquiring it: {waiter?.Message}");
        Assert.True(regained == 0, $"A holder asked to release got the lock back {regained} times while another request waited for it; a released lock must go to the request already waiting.");
    }

    /// <summary>When many requests wait for one upload, each is granted the lock in turn once the one before releases:
    /// no wake-up is lost.</summary>
    [Fact]
    public virtual async Task AcquireAsync_ManyWaiters_AreAllServedInTurn()
    {
        const int waiters = 10;
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");
        var inside = 0;
        var overlaps = 0;
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        try
        {
            var queued = Enumerable.Range(0, waiters).Select(async w =>
            {
                var held = await (w % 2 == 0 ? Peer : Locker).AcquireAsync(id, giveUp.Token);
                if (Interlocked.Increment(ref inside) > 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                await Task.Yield();
                Interlocked.Decrement(ref inside);
                await held.DisposeAsync();
            }).ToArray();
            await Task.Delay(Settle, Ct);
            await holder.DisposeAsync();

            await WithinAsync(Task.WhenAll(queued), $"all {waiters} waiters to be served in turn");
            Assert.Equal(0, overlaps);
        }
        finally
        {
            // Waiters a broken locker never served give up, rather than linger after the test.
            await giveUp.CancelAsync();
        }
    }

    /// <summary>A lock that loses its lease fires <see cref="ITusLock.Lost"/>. Runs only for a fixture that implements
    /// <see cref="ILeaseLossFixture"/> (a locker that can lose a lease); reported skipped for the others.</summary>
    [Fact]
    public virtual async Task Lost_ForcedLeaseLoss_Fires()
    {
        if (Fixture is not ILeaseLossFixture leases)
        {
            Assert.Skip($"{typeof(TFixture).Name} does not implement ILeaseLossFixture: {Locker.GetType().Name} cannot lose a lease, so it never fires ITusLock.Lost.");
            return;
        }

        var held = await AcquireWithinAsync(Locker, UploadId.New(), "a free upload");
        Assert.False(held.Lost.IsCancellationRequested, "Lost fired before the lease was lost.");

        await leases.ForceLeaseLossAsync(held, Ct);

        await WithinAsync(WhenFired(held.Lost), "Lost to fire after the lease was lost");
        await held.DisposeAsync();
    }

    /// <summary>A release request is not a lost lease: while another request waits, ReleaseRequested fires and Lost does not.</summary>
    [Fact]
    public virtual async Task Lost_ReleaseRequested_DoesNotFire()
    {
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");
        var waiting = Peer.AcquireAsync(id, Ct).AsTask();
        await WithinAsync(WhenFired(holder.ReleaseRequested), "the holder's ReleaseRequested to fire once another request waits");

        await Task.Delay(Settle, Ct);

        Assert.False(holder.Lost.IsCancellationRequested, "Lost fired because another request asked for the upload; that is a release request, not a lost lease.");
        await holder.DisposeAsync();
        await (await WithinAsync(waiting, "the waiting acquire after the holder released")).DisposeAsync();
    }

    /// <summary>TryAcquireAsync takes a free upload's lock at once, for that upload, with neither signal fired, and
    /// excludes others like any lock.</summary>
    [Fact]
    public virtual async Task TryAcquireAsync_FreeUpload_AcquiresTheLock()
    {
        var id = UploadId.New();

        var held = await TryAcquireWithinAsync(Locker, id, "a free upload");

        Assert.True(held is not null, "TryAcquireAsync returned null for an upload nobody holds or waits for.");
        Assert.Equal(id, held.UploadId);
        Assert.False(held.ReleaseRequested.IsCancellationRequested, "ReleaseRequested has fired on a lock nobody else asked for.");
        Assert.False(held.Lost.IsCancellationRequested, "Lost has fired on a lock just granted.");
        var waiting = Peer.AcquireAsync(id, Ct).AsTask();
        await AssertStillPendingAsync(waiting, "An acquire was granted while a lock taken by TryAcquireAsync was held.");
        await held.DisposeAsync();
        await (await WithinAsync(waiting, "the waiting acquire after the lock taken by TryAcquireAsync was released")).DisposeAsync();
    }

    /// <summary>TryAcquireAsync on a held upload returns null at once, holds nothing, and does not disturb the holder:
    /// its ReleaseRequested stays quiet (the expiration sweep must never interrupt a request).</summary>
    [Fact]
    public virtual async Task TryAcquireAsync_HeldUpload_ReturnsNullWithoutRequestingRelease()
    {
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");

        var attempt = await TryAcquireWithinAsync(Peer, id, "a held upload");
        if (attempt is not null)
        {
            await attempt.DisposeAsync();
        }

        await Task.Delay(Settle, Ct);
        Assert.True(attempt is null, "TryAcquireAsync granted the lock of an upload another holder has.");
        Assert.False(holder.ReleaseRequested.IsCancellationRequested, "TryAcquireAsync made the holder's ReleaseRequested fire; it must leave a request in progress alone.");
        var later = Peer.AcquireAsync(id, Ct).AsTask();
        await AssertStillPendingAsync(later, "The lock was granted to another request although its holder never released it.");
        await holder.DisposeAsync();
        await (await WithinAsync(later, "the waiting acquire after the holder released")).DisposeAsync();
    }

    /// <summary>Once the holder releases, TryAcquireAsync takes the lock again, through either locker, and the lock it
    /// took is released by disposal like any other.</summary>
    [Fact]
    public virtual async Task TryAcquireAsync_AfterRelease_AcquiresAgain()
    {
        var id = UploadId.New();
        await (await AcquireWithinAsync(Locker, id, "a free upload")).DisposeAsync();

        var first = await TryAcquireWithinAsync(Peer, id, "an upload just released");
        Assert.True(first is not null, "TryAcquireAsync returned null for an upload whose holder released it.");
        await first.DisposeAsync();
        var second = await TryAcquireWithinAsync(Locker, id, "an upload released after TryAcquireAsync");
        Assert.True(second is not null, "TryAcquireAsync returned null for an upload whose lock, taken by TryAcquireAsync, was released.");
        await second.DisposeAsync();
    }

    /// <summary>TryAcquireAsync with a token that has already fired throws <see cref="OperationCanceledException"/> and
    /// holds nothing.</summary>
    [Fact]
    public virtual async Task TryAcquireAsync_TokenAlreadyCancelled_ThrowsAndHoldsNothing()
    {
        var id = UploadId.New();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var exception = await Record.ExceptionAsync(() => WithinAsync(Locker.TryAcquireAsync(id, cancelled.Token).AsTask(), "TryAcquireAsync with a cancelled token to end"));

        Assert.True(exception is OperationCanceledException, $"TryAcquireAsync with a cancelled token ended with {exception?.GetType().Name ?? "a result"} instead of an OperationCanceledException.");
        await (await AcquireWithinAsync(Peer, id, "the upload after TryAcquireAsync with a cancelled token")).DisposeAsync();
    }

    /// <summary>
    /// The fencing token strictly grows across successive holders of one upload, however each got the lock: acquired,
    /// acquired through the peer, taken by TryAcquireAsync, and handed to a waiter on release.
    /// </summary>
    [Fact]
    public virtual async Task FencingToken_SuccessiveHolders_StrictlyGrows()
    {
        var id = UploadId.New();
        var tokens = new List<(string How, long Token)>();

        var first = await AcquireWithinAsync(Locker, id, "a free upload");
        tokens.Add(("acquired", first.FencingToken));
        await first.DisposeAsync();

        // Another upload in between, so that a locker whose counter is shared across uploads is exercised too.
        await (await AcquireWithinAsync(Peer, UploadId.New(), "another upload")).DisposeAsync();

        var second = await AcquireWithinAsync(Peer, id, "the upload through the peer");
        tokens.Add(("acquired through the peer", second.FencingToken));
        await second.DisposeAsync();

        var third = await TryAcquireWithinAsync(Locker, id, "the upload by TryAcquireAsync");
        Assert.True(third is not null, "TryAcquireAsync returned null for a free upload.");
        tokens.Add(("taken by TryAcquireAsync", third.FencingToken));
        var waiting = Peer.AcquireAsync(id, Ct).AsTask();
        await AssertStillPendingAsync(waiting, "An acquire was granted while another holder had the lock.");
        await third.DisposeAsync();
        var fourth = await WithinAsync(waiting, "the waiting acquire after the holder released");
        tokens.Add(("handed to a waiter", fourth.FencingToken));
        await fourth.DisposeAsync();

        var fifth = await AcquireWithinAsync(Locker, id, "the upload after every earlier holder released");
        tokens.Add(("acquired again", fifth.FencingToken));
        await fifth.DisposeAsync();

        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(
                tokens[i].Token > tokens[i - 1].Token,
                $"The lock {tokens[i].How} has fencing token {tokens[i].Token}, not larger than {tokens[i - 1].Token} of the holder before it ({tokens[i - 1].How}). Tokens in order: {string.Join(", ", tokens.Select(t => t.Token))}.");
        }
    }

    /// <summary>
    /// Release requests reach every holder: when a lock is handed to one of several waiters, the new holder's
    /// ReleaseRequested fires because others still wait, and so on down the queue; the last holder, with nobody left
    /// waiting, is not asked.
    /// </summary>
    [Fact]
    public virtual async Task ReleaseRequested_HolderByHandOffWhileOthersWait_Fires()
    {
        var id = UploadId.New();
        var holder = await AcquireWithinAsync(Locker, id, "a free upload");
        var firstWaiter = Peer.AcquireAsync(id, Ct).AsTask();
        await WithinAsync(WhenFired(holder.ReleaseRequested), "the holder's ReleaseRequested to fire once another request waits");
        var secondWaiter = Locker.AcquireAsync(id, Ct).AsTask();
        await Task.Delay(Settle, Ct);

        await holder.DisposeAsync();
        var next = await WithinAsync(Task.WhenAny(firstWaiter, secondWaiter), "a waiter to be handed the lock");
        var nextHeld = await next;
        var last = next == firstWaiter ? secondWaiter : firstWaiter;
        await WithinAsync(WhenFired(nextHeld.ReleaseRequested), "ReleaseRequested to fire on the holder that got the lock by hand-off while another request still waits");

        await nextHeld.DisposeAsync();
        var lastHeld = await WithinAsync(last, "the last waiter to be handed the lock");
        await Task.Delay(Settle, Ct);
        Assert.False(lastHeld.ReleaseRequested.IsCancellationRequested, "ReleaseRequested fired on the last holder although nobody waits for the upload any more.");
        await lastHeld.DisposeAsync();
    }

    /// <summary>
    /// Release requests reach every holder of an upload, not only its first: each of several holders in turn, each of
    /// which got the lock after the previous one released with nobody waiting, is asked to release as soon as another
    /// request waits (through either locker).
    /// </summary>
    [Fact]
    public virtual async Task ReleaseRequested_EveryLaterHolder_FiresWhenAnotherWaits()
    {
        var id = UploadId.New();
        for (var turn = 0; turn < 4; turn++)
        {
            var (mine, other) = turn % 2 == 0 ? (Locker, Peer) : (Peer, Locker);
            var holder = await AcquireWithinAsync(mine, id, $"the upload for holder {turn + 1}");
            Assert.False(holder.ReleaseRequested.IsCancellationRequested, $"ReleaseRequested of holder {turn + 1} fired before anyone else asked for the upload.");
            var waiting = other.AcquireAsync(id, Ct).AsTask();
            await WithinAsync(WhenFired(holder.ReleaseRequested), $"ReleaseRequested to fire on holder {turn + 1} of the upload (each an earlier holder released with nobody waiting) once another request waits");
            await holder.DisposeAsync();
            await (await WithinAsync(waiting, $"the request waiting behind holder {turn + 1}")).DisposeAsync();
        }
    }

    /// <summary>Acquires a lock, failing the test when it is not granted within <see cref="Patience"/> (or <paramref name="patience"/>).</summary>
    /// <param name="locker">The locker to ask.</param>
    /// <param name="uploadId">The upload.</param>
    /// <param name="what">What is being locked, for the failure message.</param>
    /// <param name="patience">How long to wait; <see cref="Patience"/> when <see langword="null"/>.</param>
    /// <returns>The held lock.</returns>
    protected async Task<ITusLock> AcquireWithinAsync(ITusLocker locker, string uploadId, string what, TimeSpan? patience = null)
    {
        ArgumentNullException.ThrowIfNull(locker);
        var limit = patience ?? Patience;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(limit);
        try
        {
            return await locker.AcquireAsync(uploadId, timeout.Token).AsTask().WaitAsync(limit + TimeSpan.FromSeconds(1), Ct);
        }
        catch (Exception exception) when ((exception is OperationCanceledException && timeout.IsCancellationRequested && !Ct.IsCancellationRequested) || exception is TimeoutException)
        {
            Assert.Fail($"The lock of {what} was not granted within {limit.TotalSeconds:F0} s.");
            throw;
        }
    }

    /// <summary>Calls TryAcquireAsync, failing the test when it does not answer within <see cref="Patience"/>.</summary>
    /// <param name="locker">The locker to ask.</param>
    /// <param name="uploadId">The upload.</param>
    /// <param name="what">What is being locked, for the failure message.</param>
    /// <returns>The held lock, or <see langword="null"/>.</returns>
    protected async Task<ITusLock?> TryAcquireWithinAsync(ITusLocker locker, string uploadId, string what)
    {
        ArgumentNullException.ThrowIfNull(locker);
        return await WithinAsync(locker.TryAcquireAsync(uploadId, Ct).AsTask(), $"TryAcquireAsync for {what} to answer");
    }

    /// <summary>Waits for a task, failing the test when it does not end within <see cref="Patience"/> (or <paramref name="patience"/>).</summary>
    /// <param name="task">The task.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="patience">How long to wait; <see cref="Patience"/> when <see langword="null"/>.</param>
    protected async Task WithinAsync(Task task, string what, TimeSpan? patience = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        var limit = patience ?? Patience;
        try
        {
            await task.WaitAsync(limit, Ct);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {limit.TotalSeconds:F0} s waiting for {what}.");
        }
    }

    /// <summary>Waits for a task's result, failing the test when it does not end within <see cref="Patience"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The task.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <returns>The result.</returns>
    protected async Task<T> WithinAsync<T>(Task<T> task, string what)
    {
        await WithinAsync((Task)task, what);
        return await task;
    }

    /// <summary>Checks that a task is still running after <see cref="Settle"/>; if it completed with a lock, the lock
    /// is released before the test fails.</summary>
    /// <param name="acquiring">An acquire that must still wait.</param>
    /// <param name="message">The failure message.</param>
    protected async Task AssertStillPendingAsync(Task<ITusLock> acquiring, string message)
    {
        ArgumentNullException.ThrowIfNull(acquiring);
        await Task.WhenAny(acquiring, Task.Delay(Settle, Ct));
        if (acquiring.IsCompletedSuccessfully)
        {
            await acquiring.Result.DisposeAsync();
        }

        Assert.False(acquiring.IsCompleted, message);
    }

    /// <summary>A task that completes when <paramref name="token"/> fires (never, for a token that cannot fire).</summary>
    /// <param name="token">The token.</param>
    /// <returns>The task.</returns>
    protected static Task WhenFired(CancellationToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), fired);
        return fired.Task;
    }
}
