using System.Diagnostics;
using System.Text;
using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Faults;

/// <summary>Store calls that never answer are abandoned at the store-call timeout, and the upload's lock goes with them.</summary>
public sealed class StoreTimeoutTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(300);

    [Theory]
    [InlineData("Get")]
    [InlineData("Append")]
    [InlineData("SetExpiry")]
    [InlineData("Concatenate")]
    public async Task StoreCall_Hangs_Answers503StoreTimeoutAtTheLimitAndFreesTheLock(string method)
    {
        using var harness = FaultHarness.Create(o =>
        {
            o.StoreCallTimeout = Limit;
            o.ConcatenationTimeout = Limit;
            o.Expiration = TimeSpan.FromHours(1);
            o.LockTimeout = TimeSpan.FromMilliseconds(200);
        });
        var (request, target) = await PrepareAsync(harness, method);
        var hung = 0;
        harness.Store.Before = (called, token) => called == method && Interlocked.Exchange(ref hung, 1) == 0 ? HookedStore.HangAsync(token) : ValueTask.CompletedTask;
        if (method == "Append")
        {
            // Reads the whole body at once (no waiting for the client), keeps 4 bytes, then the backend stops answering.
            harness.Store.Before = null;
            harness.Store.Append = async (upload, data, token) =>
            {
                await harness.Store.ReadAllThenPersistAsync(upload, data, 4, token);
                await HookedStore.HangAsync(token);
                return 0;
            };
        }

        var clock = Stopwatch.StartNew();
        var response = await harness.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(10));
        clock.Stop();

        response.StatusCode.Should().Be(503, string.Join(Environment.NewLine, harness.Logger.Entries));
        response.Error!.Code.Should().Be("ERR_STORE_TIMEOUT");
        clock.Elapsed.Should().BeGreaterThan(Limit - TimeSpan.FromMilliseconds(50)).And.BeLessThan(Limit + TimeSpan.FromSeconds(2));
        harness.Store.Tokens[method].IsCancellationRequested.Should().BeTrue("the hung call's token fired");
        harness.Locker.Granted.Where(l => l.UploadId == target).Should().OnlyContain(l => l.Released.Task.IsCompleted, "the lock was released with the answer");
        if (method == "Append")
        {
            response.GetHeader("Upload-Offset").Should().Be("4", "the offset comes from a fresh lookup after the failed append");
            harness.Log.After("Append:returned").Should().Equal(["Get"], "after an abandoned append only the lookup runs, no expiry update");
        }

        harness.Store.Append = null;
        var followUp = Stopwatch.StartNew();
        var head = await harness.HeadAsync(target);
        followUp.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1), "the next request gets the lock without waiting for the hung call");
        head.StatusCode.Should().Be(200);
        if (method == "Append")
        {
            head.GetHeader("Upload-Offset").Should().Be("4");
        }
    }

    [Theory]
    [InlineData("HEAD")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task Lookup_IgnoringItsToken_IsStillAbandonedAtTheLimit(string method)
    {
        using var harness = FaultHarness.Create(o => o.StoreCallTimeout = Limit);
        var id = await harness.CreateAsync(10);
        var never = new TaskCompletionSource();
        var hung = 0;
        harness.Store.Before = async (called, _) =>
        {
            if (called == "Get" && Interlocked.Exchange(ref hung, 1) == 0)
            {
                await never.Task;
            }
        };
        var request = method == "PATCH" ? FaultHarness.Patch(id, 0, new byte[3]) : new TestRequest(method, id);
        var clock = Stopwatch.StartNew();

        var response = await harness.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(10));

        clock.Elapsed.Should().BeLessThan(Limit + TimeSpan.FromSeconds(2));
        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_STORE_TIMEOUT");
        (await harness.HeadAsync(id)).StatusCode.Should().Be(200, "the lock was released");
        never.SetResult();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Patch_ClientSlowerThanTheStoreTimeout_Completes(bool smallReads)
    {
        using var harness = FaultHarness.Create(o =>
        {
            o.StoreCallTimeout = Limit;
            o.ReadTimeout = TimeSpan.FromSeconds(3);
        }, inner: new InMemoryStore { ReadInSmallBuffers = smallReads });
        var data = Encoding.ASCII.GetBytes("slow");

        // Every gap is longer than the store-call timeout (and shorter than the read timeout): only a clock that stops
        // while the store waits for the client lets this body through.
        var gap = Limit + TimeSpan.FromMilliseconds(150);
        var id = await harness.CreateAsync(data.Length);
        var clock = Stopwatch.StartNew();

        var response = await harness.SendAsync(FaultHarness.Patch(id, 0, new TricklingStream(data, gap), data.Length)).WaitAsync(TimeSpan.FromSeconds(20));

        clock.Elapsed.Should().BeGreaterThan(Limit * 4, "the body took far longer than the store-call timeout");
        response.StatusCode.Should().Be(204, string.Join(Environment.NewLine, harness.Logger.Entries));
        response.GetHeader("Upload-Offset").Should().Be(data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        harness.Store.Inner.DataOf(id).Should().Equal(data);
    }

    [Fact]
    public async Task Patch_AppendHangsBeforeReading_IsAbandonedAtTheLimitNotAtTheReadTimeout()
    {
        using var harness = FaultHarness.Create(o =>
        {
            o.StoreCallTimeout = Limit;
            o.ReadTimeout = TimeSpan.FromSeconds(30);
        });
        var id = await harness.CreateAsync(10);
        harness.Store.Append = async (_, _, token) =>
        {
            await HookedStore.HangAsync(token);
            return 0;
        };
        var clock = Stopwatch.StartNew();

        var response = await harness.SendAsync(FaultHarness.Patch(id, 0, new byte[10])).WaitAsync(TimeSpan.FromSeconds(10));

        clock.Elapsed.Should().BeLessThan(Limit + TimeSpan.FromSeconds(2));
        response.StatusCode.Should().Be(503);
        response.Error!.Code.Should().Be("ERR_STORE_TIMEOUT");
        response.GetHeader("Upload-Offset").Should().Be("0");
    }

    /// <summary>The request whose <paramref name="method"/> call will hang, and the upload to check afterwards.</summary>
    private static async Task<(TestRequest Request, string Upload)> PrepareAsync(FaultHarness harness, string method)
    {
        switch (method)
        {
            case "Get":
            {
                var id = await harness.CreateAsync(10);
                return (new TestRequest("HEAD", id), id);
            }

            case "Append":
            case "SetExpiry":
            {
                var id = await harness.CreateAsync(20);
                return (FaultHarness.Patch(id, 0, Encoding.ASCII.GetBytes("0123456789")), id);
            }

            default:
            {
                // The final upload is created while a partial is unfinished, so the HEAD after it is what assembles it.
                var a = await CreatePartialAsync(harness, "abc");
                var b = await CreatePartialAsync(harness, null);
                var created = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{a} /files/{b}"));
                created.StatusCode.Should().Be(201);
                (await harness.SendAsync(FaultHarness.Patch(b, 0, Encoding.ASCII.GetBytes("def")))).StatusCode.Should().Be(204);
                var id = EngineHarness.IdOf(created);
                return (new TestRequest("HEAD", id), id);
            }
        }
    }

    private static async Task<string> CreatePartialAsync(FaultHarness harness, string? content)
    {
        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", "partial").Header("Upload-Length", "3"));
        response.StatusCode.Should().Be(201);
        var id = EngineHarness.IdOf(response);
        if (content is not null)
        {
            (await harness.SendAsync(FaultHarness.Patch(id, 0, Encoding.ASCII.GetBytes(content)))).StatusCode.Should().Be(204);
        }

        return id;
    }
}
