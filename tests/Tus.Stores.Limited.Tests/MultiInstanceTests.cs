using Tus.Lockers.Memory;

namespace Tus.Stores.Limited.Tests;

/// <summary>Two quota wrappers over one directory, as two server instances sharing storage.</summary>
public sealed class MultiInstanceTests : QuotaTestBase
{
    [Fact]
    public async Task ResyncInterval_OtherInstancesUploads_AreCountedAfterTheNextResync()
    {
        var options = new QuotaOptions { MaxTotalBytes = 1_000, ResyncInterval = TimeSpan.FromMinutes(1) };
        var first = NewQuota(options);
        var second = NewQuota(options);
        await first.InitializeAsync(Ct);
        await second.InitializeAsync(Ct);

        await first.CreateAsync(New(600), Ct);
        // The second instance has not seen it yet: this is the documented, bounded overshoot.
        await second.CreateAsync(New(300), Ct);

        Clock.Advance(TimeSpan.FromMinutes(2));
        await second.CreateAsync(New(50), Ct);
        await WaitForAsync(() => second.GetUsage().UsedBytes == 950, "the second instance's resync to count the first one's upload");

        var refused = async () => await second.CreateAsync(New(100), Ct);
        await refused.Should().ThrowAsync<QuotaExceededException>();
    }

    [Fact]
    public async Task Reclaim_UploadWrittenThroughAnotherInstance_IsNotReclaimed()
    {
        var reclaiming = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000, ReclaimAfter = TimeSpan.FromHours(1), ResyncInterval = TimeSpan.FromMinutes(1) }, new MemoryLocker());
        var writing = NewQuota(new QuotaOptions { MaxTotalBytes = 1_000 });
        var upload = await writing.CreateAsync(New(900), Ct);
        await reclaiming.InitializeAsync(Ct);

        // Hours later the other instance writes to it; the next resync sees its offset move.
        Clock.Advance(TimeSpan.FromHours(2));
        await writing.AppendAsync(upload, Body(Pattern(10)), Ct);
        var trigger = await reclaiming.CreateAsync(New(10), Ct);
        for (var i = 1; i <= 100 && !LastActivityMoved(reclaiming, upload.Id); i++)
        {
            await Task.Delay(100, Ct);
            if (i % 10 == 0)
            {
                // The resync runs beside the trigger's creation; one whose listing met half-written files gives up and
                // waits for the next request after the interval.
                Clock.Advance(TimeSpan.FromMinutes(1));
                await reclaiming.CreateAsync(New(1), Ct);
            }
        }

        LastActivityMoved(reclaiming, upload.Id).Should().BeTrue("a resync after the other instance's write sees its offset move");

        var refused = async () => await reclaiming.CreateAsync(New(500), Ct);

        await refused.Should().ThrowAsync<QuotaExceededException>();
        (await reclaiming.GetAsync(upload.Id, Ct))!.Offset.Should().Be(10);
        reclaiming.GetUsage().ReclaimedUploads.Should().Be(0);
        trigger.Should().NotBeNull();
    }

    private static bool LastActivityMoved(LimitedStore store, string id) => store.Ledger.LastActivity(id) > Start.AddHours(1);

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50, Ct);
        }

        condition().Should().BeTrue($"waited 10 s for {what}");
    }
}
