using Tus.Core.Tests.Infrastructure;

namespace Tus.Core.Tests.Engine;

public sealed class ConcatenationTests
{
    private static async Task<string> PartialAsync(EngineHarness harness, string content, bool finish = true)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(content);
        var id = await harness.CreateAsync(bytes.Length, concat: "partial");
        if (finish)
        {
            await harness.PatchAsync(id, 0, bytes);
        }

        return id;
    }

    [Fact]
    public async Task Final_FromFinishedPartials_IsAssembledInOrder()
    {
        var completed = new List<string>();
        var harness = EngineHarness.WithHooks(new Hook.PostFinish((c, _) => { lock (completed) { completed.Add(c.Upload.Id); } return ValueTask.CompletedTask; }));
        var a = await PartialAsync(harness, "hello ");
        var b = await PartialAsync(harness, "world");

        var final = await harness.CreateAsync(null, concat: $"final;/files/{a} http://localhost:8080/files/{b}");

        harness.Store.DataOf(final).Should().Equal("hello world"u8.ToArray());
        var head = await harness.HeadAsync(final);
        head.GetHeader("Upload-Concat").Should().Be($"final;/files/{a} /files/{b}");
        head.GetHeader("Upload-Offset").Should().Be("11");
        head.GetHeader("Upload-Length").Should().Be("11");
        (await harness.HeadAsync(a)).GetHeader("Upload-Concat").Should().Be("partial");
        await harness.PostHooksRunAsync();
        completed.Should().BeEquivalentTo([a, b, final], "each upload finishes once; different uploads' post-hooks are not ordered");
    }

    [Fact]
    public async Task Final_BeforePartialsFinish_HasNoOffsetUntilTheyDo()
    {
        var harness = EngineHarness.Create();
        var a = await PartialAsync(harness, "abc");
        var b = await PartialAsync(harness, "def", finish: false);

        var final = await harness.CreateAsync(null, concat: $"final;/files/{a} /files/{b}");
        var pending = await harness.HeadAsync(final);
        await harness.PatchAsync(b, 0, "def"u8.ToArray());
        var done = await harness.HeadAsync(final);

        pending.StatusCode.Should().Be(200);
        pending.GetHeader("Upload-Offset").Should().BeNull();
        pending.GetHeader("Upload-Length").Should().Be("6");
        done.GetHeader("Upload-Offset").Should().Be("6");
        harness.Store.DataOf(final).Should().Equal("abcdef"u8.ToArray());
    }

    [Fact]
    public async Task Final_WithUnfinishedPartialsWhenUnfinishedDisabled_Answers400()
    {
        var harness = EngineHarness.Create(o => o.EnableConcatenationUnfinished = false);
        var a = await PartialAsync(harness, "abc", finish: false);

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{a}"));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_UPLOAD_NOT_FINISHED");
    }

    [Theory]
    [InlineData("final;")]
    [InlineData("final; ")]
    [InlineData("complete;/files/x")]
    [InlineData("final;/files/../x")]
    [InlineData("final;/files/missing")]
    public async Task Final_InvalidConcatHeader_Answers400(string header)
    {
        var harness = EngineHarness.Create();

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", header));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_INVALID_CONCAT");
    }

    [Fact]
    public async Task Final_OfAPlainUpload_Answers400()
    {
        var harness = EngineHarness.Create();
        var plain = await harness.CreateAsync(1);

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{plain}"));

        response.Error!.Code.Should().Be("ERR_INVALID_CONCAT");
    }

    [Fact]
    public async Task Final_WithUploadLength_Answers400()
    {
        var harness = EngineHarness.Create();
        var a = await PartialAsync(harness, "abc");

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{a}").Header("Upload-Length", "3"));

        response.Error!.Code.Should().Be("ERR_INVALID_CONCAT");
    }

    [Fact]
    public async Task Final_Patch_Answers403()
    {
        var harness = EngineHarness.Create();
        var a = await PartialAsync(harness, "abc");
        var final = await harness.CreateAsync(null, concat: $"final;/files/{a}");

        var response = await harness.PatchAsync(final, 3, "x"u8.ToArray());

        response.StatusCode.Should().Be(403);
        response.Error!.Code.Should().Be("ERR_MODIFY_FINAL");
    }

    [Fact]
    public async Task Final_AbovemaxSize_Answers413()
    {
        var harness = EngineHarness.Create(o => o.MaxSize = 4);
        var a = await PartialAsync(harness, "abc");
        var b = await PartialAsync(harness, "def");

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", $"final;/files/{a} /files/{b}"));

        response.StatusCode.Should().Be(413);
    }

    [Fact]
    public async Task Final_WithBody_Answers403()
    {
        var harness = EngineHarness.Create();
        var a = await PartialAsync(harness, "abc");

        var response = await harness.SendAsync(TestRequest.WithBytes("POST", "", "x"u8.ToArray()).OffsetStream().Header("Upload-Concat", $"final;/files/{a}"));

        response.StatusCode.Should().Be(403);
    }

    [Fact]
    public async Task Concat_WhenStoreCannot_HeaderIsIgnored()
    {
        var harness = EngineHarness.Create(store: new InMemoryStore { HasConcatenation = false });

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Concat", "partial").Header("Upload-Length", "3"));

        response.StatusCode.Should().Be(201);
        (await harness.HeadAsync(EngineHarness.IdOf(response))).GetHeader("Upload-Concat").Should().BeNull();
    }
}
