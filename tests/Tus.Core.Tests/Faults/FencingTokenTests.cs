using System.Security.Cryptography;
using System.Text;
using Tus.Core.Tests.Infrastructure;
using Tus.Http;

namespace Tus.Core.Tests.Faults;

/// <summary>Every store call made under a lock carries that lock's fencing token in the upload it is given.</summary>
public sealed class FencingTokenTests
{
    private static readonly string[] UnderLock = ["Append", "SetLength", "SetExpiry", "DiscardFrom", "Concatenate", "OpenRead"];

    [Fact]
    public async Task Patch_DeferredLengthWithSlidingExpiry_PassesTheLocksTokenToEveryCall()
    {
        using var harness = FaultHarness.Create(o => o.Expiration = TimeSpan.FromHours(1));
        var id = await harness.CreateAsync(null);

        var (response, calls, token) = await UnderLockAsync(harness, FaultHarness.Patch(id, 0, new byte[4]).Header("Upload-Length", "10"));

        response.StatusCode.Should().Be(204);
        calls.Select(c => c.Method).Should().Contain(["SetLength", "Append", "SetExpiry"]);
        calls.Should().OnlyContain(c => c.Upload!.FencingToken == token);
    }

    [Fact]
    public async Task Patch_ChecksumMismatch_DiscardsUnderTheNewerLocksToken()
    {
        // A store that writes the bytes as they arrive keeps some of a body that then fails: the engine takes them back.
        using var harness = FaultHarness.Create(inner: new InMemoryStore { ReadInSmallBuffers = true });
        var id = await harness.CreateAsync(10);
        var (_, _, first) = await UnderLockAsync(harness, FaultHarness.Patch(id, 0, new byte[2]));
        var wrong = "sha1 " + Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes("other")));

        var (response, calls, second) = await UnderLockAsync(harness, FaultHarness.Patch(id, 2, new byte[3]).Header("Upload-Checksum", wrong));

        response.StatusCode.Should().Be(460);
        second.Should().BeGreaterThan(first);
        calls.Select(c => c.Method).Should().Contain(["Append", "DiscardFrom"]);
        calls.Should().OnlyContain(c => c.Upload!.FencingToken == second);
    }

    [Fact]
    public async Task Head_AssemblingAFinalUpload_ConcatenatesUnderTheLocksToken()
    {
        using var harness = FaultHarness.Create();
        var partial = EngineHarness.IdOf(await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", "partial").Header("Upload-Length", "3")));
        var final = EngineHarness.IdOf(await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{partial}")));
        (await harness.SendAsync(FaultHarness.Patch(partial, 0, new byte[3]))).StatusCode.Should().Be(204);

        var (response, calls, token) = await UnderLockAsync(harness, new TestRequest("HEAD", final));

        response.StatusCode.Should().Be(200);
        calls.Select(c => c.Method).Should().Contain("Concatenate");
        calls.Should().OnlyContain(c => c.Upload!.FencingToken == token);
    }

    /// <summary>Sends a request that takes one lock; returns the calls it made that take an upload under it, and the lock's token.</summary>
    private static async Task<(TusResponse Response, List<(string Method, Stores.UploadInfo? Upload)> Calls, long Token)> UnderLockAsync(FaultHarness harness, TestRequest request)
    {
        var callsBefore = harness.Store.Calls.Count;
        var locksBefore = harness.Locker.Granted.Count;
        var response = await harness.SendAsync(request);
        harness.Locker.Granted.Count.Should().Be(locksBefore + 1);
        var calls = harness.Store.Calls.Skip(callsBefore).Where(c => UnderLock.Contains(c.Method)).ToList();
        return (response, calls, harness.Locker.Granted.Last().FencingToken);
    }
}
