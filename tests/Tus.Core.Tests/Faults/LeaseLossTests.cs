using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Faults;

/// <summary>A lost lease stops the request at once, and nothing that changes the upload is called after the loss.</summary>
public sealed class LeaseLossTests
{
    private static readonly string[] Changing = ["Append", "SetExpiry", "DiscardFrom", "SetLength", "Concatenate", "Delete", "RemoveExpired", "Create"];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Patch_LeaseLostWhileWaitingForTheBody_Answers503LockLostAndChangesNothingAfter(bool withChecksum)
    {
        using var harness = FaultHarness.Create(o =>
        {
            o.Expiration = TimeSpan.FromHours(1);
            o.ReadTimeout = TimeSpan.FromSeconds(30);
        });
        var id = await harness.CreateAsync(20);
        var body = new GatedStream(Encoding.ASCII.GetBytes("abcde"));
        var request = FaultHarness.Patch(id, 0, body, 20);
        if (withChecksum)
        {
            // A checksum over bytes that will never all arrive: without the lease guard, the engine would discard them.
            request.Header("Upload-Checksum", "sha1 " + Convert.ToBase64String(SHA1.HashData(new byte[20])));
        }

        var pending = harness.SendAsync(request);
        await body.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        var held = harness.Locker.Granted.Last();
        var clock = Stopwatch.StartNew();

        held.Lose();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1), "the body stops reading as soon as the lease is lost");
        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_LOCK_LOST");
        harness.Log.After("LOST").Should().Contain("Append:returned").And.NotContain(Changing);
        response.GetHeader("Upload-Offset").Should().Be("0", "the bytes still gathered in the engine when the lease was lost are not written");
        harness.Store.Inner.DataOf(id).Should().BeEmpty();
        held.Released.Task.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task Patch_LeaseLostWhileTheStoreWrites_CancelsTheCallAndChangesNothingAfter()
    {
        using var harness = FaultHarness.Create(o =>
        {
            o.Expiration = TimeSpan.FromHours(1);
            o.StoreCallTimeout = TimeSpan.FromSeconds(30);
        });
        var id = await harness.CreateAsync(20);
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Store.Append = async (upload, data, token) =>
        {
            await harness.Store.ReadAllThenPersistAsync(upload, data, 4, token);
            writing.TrySetResult();
            await HookedStore.HangAsync(token);
            return 4;
        };

        var pending = harness.SendAsync(FaultHarness.Patch(id, 0, new byte[10]));
        await writing.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var held = harness.Locker.Granted.Last();
        held.Lose();
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(5));

        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_LOCK_LOST");
        harness.Store.Tokens["Append"].IsCancellationRequested.Should().BeTrue();
        harness.Log.After("LOST").Should().NotContain(Changing);
        response.GetHeader("Upload-Offset").Should().Be("4", "a lookup only reads");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Patch_LeaseLostWhileATrailerChecksumIsVerified_NeitherDiscardsNorMovesTheExpiry(bool matches)
    {
        using var harness = FaultHarness.Create(o => o.Expiration = TimeSpan.FromHours(1));
        var id = await harness.CreateAsync(20);
        var body = Encoding.ASCII.GetBytes("0123456789");
        var checksum = SHA1.HashData(matches ? body : Encoding.ASCII.GetBytes("other"));

        // The body is verified as it ends, inside the append; the lease runs out before the append returns.
        harness.Store.Append = async (upload, data, token) =>
        {
            try
            {
                return await harness.Store.Inner.AppendAsync(upload, data, token);
            }
            finally
            {
                harness.Locker.Granted.Last().Lose();
            }
        };
        var request = FaultHarness.Patch(id, 0, body).Header("Trailer", "Upload-Checksum").Trailer("Upload-Checksum", "sha1 " + Convert.ToBase64String(checksum));

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_LOCK_LOST");
        harness.Log.Entries.Should().Contain("LOST");
        harness.Log.After("LOST").Should().NotContain(Changing);
    }

    [Fact]
    public async Task Patch_LeaseLostDuringSetLength_Answers503LockLostAndAppendsNothing()
    {
        using var harness = FaultHarness.Create();
        var id = await harness.CreateAsync(null);
        harness.Store.Before = async (method, token) =>
        {
            if (method == "SetLength")
            {
                harness.Locker.Granted.Last().Lose();
                await HookedStore.HangAsync(token);
            }
        };

        var response = await harness.SendAsync(FaultHarness.Patch(id, 0, new byte[10]).Header("Upload-Length", "10")).WaitAsync(TimeSpan.FromSeconds(5));

        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_LOCK_LOST");
        harness.Log.After("LOST").Should().NotContain(Changing.Except(["SetLength"]));
    }
}
