using Tus.Stores.Internal;

namespace Tus.Stores.Limited.Tests;

public sealed class QuotaLedgerTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Resync_BegunAfterAReservation_WhoseCreationTheListingMissed_KeepsTheReservation()
    {
        var ledger = new QuotaLedger(maxTotalBytes: 1_000, maxUnfinished: null, countFinished: true);
        ledger.TryReserveNew("a", 600, unfinished: true, Now, out _).Should().Be(Refusal.None);
        ledger.CreationStored("a");

        // Reserved, then the listing begins and passes before the store has written anything of "b".
        ledger.TryReserveNew("b", 300, unfinished: true, Now, out _).Should().Be(Refusal.None);
        var start = ledger.BeginResync();
        ledger.CompleteResync([new ListedUpload("a", 600, Unfinished: true, Offset: 0, Now)], start, Now, initial: false);

        ledger.Usage().UsedBytes.Should().Be(900, "the creation still in progress keeps its reservation");
        ledger.TryReserveNew("c", 200, unfinished: true, Now, out _).Should().Be(Refusal.TotalBytes);
    }

    [Fact]
    public void Resync_AfterACreationWasStored_AndTheListingMissesIt_ForgetsIt()
    {
        var ledger = new QuotaLedger(maxTotalBytes: 1_000, maxUnfinished: null, countFinished: true);
        ledger.TryReserveNew("gone", 300, unfinished: true, Now, out _);
        ledger.CreationStored("gone");

        // Another instance deleted it before this listing.
        var start = ledger.BeginResync();
        ledger.CompleteResync([], start, Now, initial: false);

        ledger.Usage().UsedBytes.Should().Be(0);
    }
}
