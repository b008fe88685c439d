using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Engine;

public sealed class HeadDeleteTests
{
    [Fact]
    public async Task Head_ExistingUpload_ReportsStateWithoutCaching()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(10, "name YQ==");
        await harness.PatchAsync(id, 0, "abcd"u8.ToArray());

        var response = await harness.HeadAsync(id);

        response.StatusCode.Should().Be(200);
        response.GetHeader("Upload-Offset").Should().Be("4");
        response.GetHeader("Upload-Length").Should().Be("10");
        response.GetHeader("Upload-Metadata").Should().Be("name YQ==");
        response.GetHeader("Cache-Control").Should().Be("no-store");
        response.GetHeader("Upload-Concat").Should().BeNull();
        response.Body.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public async Task Head_UnknownUpload_Answers404WithoutBody()
    {
        var harness = EngineHarness.Create();

        var response = await harness.HeadAsync("missing");

        response.StatusCode.Should().Be(404);
        response.Body.IsEmpty.Should().BeTrue();
        response.GetHeader("Upload-Offset").Should().BeNull();
    }

    [Fact]
    public async Task Delete_ExistingUpload_Answers204AndItIsGone()
    {
        var terminated = new List<string>();
        var harness = EngineHarness.WithHooks(new Hook.PostTerminate((c, _) => { terminated.Add(c.Upload.Id); return ValueTask.CompletedTask; }));
        var id = await harness.CreateAsync(10);

        var response = await harness.SendAsync(new TestRequest("DELETE", id));

        response.StatusCode.Should().Be(204);
        (await harness.HeadAsync(id)).StatusCode.Should().Be(404);
        (await harness.SendAsync(new TestRequest("DELETE", id))).StatusCode.Should().Be(404);
        await harness.PostHooksRunAsync();
        terminated.Should().Equal(id);
    }

    [Fact]
    public async Task Delete_TerminationDisabled_Answers405()
    {
        var harness = EngineHarness.Create(o => o.EnableTermination = false);
        var id = await harness.CreateAsync(10);

        var response = await harness.SendAsync(new TestRequest("DELETE", id));

        response.StatusCode.Should().Be(405);
        harness.Store.Count.Should().Be(1);
    }

    [Fact]
    public async Task Delete_StoreWithoutTermination_Answers405()
    {
        var harness = EngineHarness.Create(store: new InMemoryStore { HasTermination = false });
        var id = await harness.CreateAsync(10);

        var response = await harness.SendAsync(new TestRequest("DELETE", id));

        response.StatusCode.Should().Be(405);
        response.GetHeader("Allow").Should().NotContain("DELETE");
    }

    [Fact]
    public async Task Authorize_Rejecting_StopsEveryMethodBeforeTheStore()
    {
        var intents = new List<(Tus.Hooks.TusIntent, string?)>();
        var armed = false;
        var harness = EngineHarness.WithHooks(new Hook.Authorize((context, _) =>
        {
            if (armed)
            {
                intents.Add((context.Intent, context.Upload.Id));
                context.Reject(new Tus.Protocol.TusError("ERR_UNAUTHORIZED", 401, "sign in"));
            }

            return ValueTask.CompletedTask;
        }));
        var id = await harness.CreateAsync(10);
        armed = true;

        (await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1"))).StatusCode.Should().Be(201, "creation is pre-create's business");
        (await harness.HeadAsync(id)).StatusCode.Should().Be(401);
        (await harness.PatchAsync(id, 0, "a"u8.ToArray())).StatusCode.Should().Be(401);
        (await harness.SendAsync(new TestRequest("DELETE", id))).StatusCode.Should().Be(401);
        (await harness.SendAsync(new TestRequest("GET", id))).StatusCode.Should().Be(401);
        (await harness.SendAsync(new TestRequest("OPTIONS"))).StatusCode.Should().Be(204, "discovery needs no authorization");

        intents.Select(i => i.Item1).Should().Equal(
            Tus.Hooks.TusIntent.GetInfo, Tus.Hooks.TusIntent.Write, Tus.Hooks.TusIntent.Terminate, Tus.Hooks.TusIntent.Download);
        intents.Should().OnlyContain(i => i.Item2 == id);
        harness.Store.Count.Should().Be(2);
        harness.Store.DataOf(id).Should().BeEmpty();
    }
}
