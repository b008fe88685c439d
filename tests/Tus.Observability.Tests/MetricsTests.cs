using Tus.Diagnostics;
using Tus.Locking;

namespace Tus.Observability.Tests;

public sealed class MetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UploadLifecycle_RecordsEachFigure()
    {
        await using var server = await TusTestServer.StartAsync(o =>
        {
            o.Expiration = TimeSpan.FromSeconds(3);
            o.ExpirationSweepInterval = TimeSpan.FromHours(1);
        });
        using var metrics = new MetricsRecorder();

        var upload = await server.CreateAsync(10);
        (await server.PatchAsync(upload, 0, new byte[4])).Should().Be(204);
        (await server.PatchAsync(upload, 0, new byte[3])).Should().Be(409, "the offset is 4 by now");
        (await server.PatchAsync(upload, 4, new byte[6])).Should().Be(204);
        var downloaded = await server.Client.GetByteArrayAsync(upload, Ct);
        downloaded.Should().HaveCount(10);

        var doomed = await server.CreateAsync(5);
        (await server.SendAsync(HttpMethod.Delete, doomed)).Should().Be(204);

        using (var unversioned = new HttpRequestMessage(HttpMethod.Head, upload))
        using (var response = await server.Client.SendAsync(unversioned, Ct))
        {
            ((int)response.StatusCode).Should().Be(412);
        }

        var expiring = await server.CreateAsync(7);
        await Task.Delay(TimeSpan.FromSeconds(3.5), Ct);
        (await server.Engine.RemoveExpiredUploadsAsync(Ct)).Should().Be(1);
        await Eventually.TrueAsync(() => metrics.Of("tus.download.served").Count > 0);

        metrics.Sum("tus.upload.created").Should().Be(3);
        metrics.Sum("tus.upload.finished").Should().Be(1);
        metrics.Sum("tus.upload.terminated").Should().Be(1);
        metrics.Sum("tus.upload.expired").Should().Be(1);
        metrics.Sum("tus.upload.received").Should().Be(10, "4 + 6 bytes arrived; the refused PATCH's body was never read");
        metrics.Sum("tus.download.served").Should().Be(10);
        metrics.Of("tus.upload.received").Should().OnlyContain(m => m.Unit == "By");

        var writes = metrics.Of("tus.upload.active_writes");
        writes.Should().HaveCount(4, "two appends, each +1 when it starts and -1 when it ends");
        writes.Sum(m => m.Value).Should().Be(0);

        var requests = metrics.Of("tus.server.request.duration");
        requests.Should().OnlyContain(m => m.Unit == "s" && m.Value >= 0);
        Count(requests, "POST", 201).Should().Be(3);
        Count(requests, "PATCH", 204).Should().Be(2);
        Count(requests, "GET", 200).Should().Be(1);
        Count(requests, "DELETE", 204).Should().Be(1);
        var refused = requests.Where(m => m.Tag(TusMetrics.StatusCodeTag) is 409 or 412).ToList();
        refused.Select(m => (m.Tag(TusMetrics.MethodTag), m.Tag(TusMetrics.ErrorTypeTag))).Should().BeEquivalentTo(
            [((object?)"PATCH", (object?)"ERR_MISMATCHED_OFFSET"), ("HEAD", "ERR_UNSUPPORTED_VERSION")]);
        requests.Where(m => m.Tag(TusMetrics.StatusCodeTag) is < 400).Should().OnlyContain(m => m.Tag(TusMetrics.ErrorTypeTag) == null);

        var storeCalls = metrics.Of("tus.store.call.duration");
        storeCalls.Should().OnlyContain(m => m.Unit == "s" && m.Tag(TusMetrics.ErrorTypeTag) == null);
        storeCalls.Select(m => m.Tag(TusMetrics.OperationTag)).Distinct().Should().BeEquivalentTo(
            ["create", "get", "append", "set_expiry", "open_read", "delete", "remove_expired"]);
        storeCalls.Count(m => (string?)m.Tag(TusMetrics.OperationTag) == "append").Should().Be(2);
        storeCalls.Count(m => (string?)m.Tag(TusMetrics.OperationTag) == "create").Should().Be(3);

        var lockWaits = metrics.Of("tus.lock.wait.duration");
        lockWaits.Should().OnlyContain(m => m.Unit == "s");
        // Three PATCHes and a DELETE wait for the lock; the sweep tries the expired upload's without waiting.
        lockWaits.Count(m => (string?)m.Tag(TusMetrics.LockOutcomeTag) == "acquired").Should().Be(5);
        metrics.Of("tus.lock.lost").Should().BeEmpty();
        _ = expiring;
    }

    [Fact]
    public async Task LockLost_WhileHeld_IsCountedOnce_AndNotAfterRelease()
    {
        using var metrics = new MetricsRecorder();
        var locker = new ObservedLocker(new LosableLocker(), TimeProvider.System);

        var held = await locker.AcquireAsync("a", Ct);
        var released = await locker.AcquireAsync("b", Ct);
        await released.DisposeAsync();
        LosableLock.Of("a").Lose();
        LosableLock.Of("b").Lose();

        metrics.Sum("tus.lock.lost").Should().Be(1, "only the lease lost while held counts");
        metrics.Of("tus.lock.wait.duration").Should().HaveCount(2).And.OnlyContain(m => (string?)m.Tag(TusMetrics.LockOutcomeTag) == "acquired");
        await held.DisposeAsync();

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await FluentActions.Awaiting(() => locker.AcquireAsync("d", cancelled.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
        metrics.Of("tus.lock.wait.duration")[^1].Tag(TusMetrics.LockOutcomeTag).Should().Be("cancelled");
    }

    private static int Count(IEnumerable<Measurement> requests, string method, int status) =>
        requests.Count(m => (string?)m.Tag(TusMetrics.MethodTag) == method && (m.Tag(TusMetrics.StatusCodeTag) as int?) == status && m.Tag(TusMetrics.ErrorTypeTag) == null);

    /// <summary>A locker whose leases the test can lose, as a distributed locker's can be.</summary>
    private sealed class LosableLocker : ITusLocker
    {
        public ValueTask<ITusLock> AcquireAsync(string uploadId, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult<ITusLock>(new LosableLock(uploadId));
        }

        public ValueTask<ITusLock?> TryAcquireAsync(string uploadId, CancellationToken cancellationToken) =>
            ValueTask.FromResult<ITusLock?>(new LosableLock(uploadId));
    }

    private sealed class LosableLock : ITusLock
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, LosableLock> Locks = new();
        private readonly CancellationTokenSource _lost = new();

        public LosableLock(string uploadId)
        {
            UploadId = uploadId;
            Locks[uploadId] = this;
        }

        public string UploadId { get; }

        public CancellationToken ReleaseRequested => CancellationToken.None;

        public CancellationToken Lost => _lost.Token;

        public long FencingToken => 1;

        public static LosableLock Of(string uploadId) => Locks[uploadId];

        public void Lose() => _lost.Cancel();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
