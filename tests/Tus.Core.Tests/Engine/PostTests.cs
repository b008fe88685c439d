using System.Text;
using Tus.Core.Tests.Infrastructure;
using Tus.Protocol;

namespace Tus.Core.Tests.Engine;

public sealed class PostTests
{
    [Fact]
    public async Task Post_WithLength_Creates201WithAbsoluteLocation()
    {
        var harness = EngineHarness.Create();

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "100"));

        response.StatusCode.Should().Be(201);
        var location = response.GetHeader("Location");
        location.Should().MatchRegex("^http://localhost:8080/files/[0-9a-f]{32}$");
        var id = EngineHarness.IdOf(response);
        (await harness.Store.GetAsync(id, default))!.Length.Should().Be(100);
    }

    [Fact]
    public async Task Post_Ids_AreUniqueAndRandom()
    {
        var harness = EngineHarness.Create();
        var ids = new HashSet<string>();
        for (var i = 0; i < 50; i++)
        {
            ids.Add(await harness.CreateAsync(1));
        }

        ids.Should().HaveCount(50);
    }

    [Theory]
    [InlineData(null, null, "ERR_INVALID_UPLOAD_LENGTH")]
    [InlineData("-1", null, "ERR_INVALID_UPLOAD_LENGTH")]
    [InlineData("abc", null, "ERR_INVALID_UPLOAD_LENGTH")]
    [InlineData("+5", null, "ERR_INVALID_UPLOAD_LENGTH")]
    [InlineData("99999999999999999999", null, "ERR_INVALID_UPLOAD_LENGTH")]
    [InlineData("5", "1", "ERR_AMBIGUOUS_UPLOAD_LENGTH")]
    [InlineData(null, "2", "ERR_INVALID_UPLOAD_LENGTH_DEFER")]
    [InlineData(null, "true", "ERR_INVALID_UPLOAD_LENGTH_DEFER")]
    public async Task Post_BadLengthHeaders_Answers400(string? length, string? defer, string code)
    {
        var harness = EngineHarness.Create();

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", length).Header("Upload-Defer-Length", defer));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be(code);
        EngineHarness.Text(response).Should().StartWith(code + ": ");
        harness.Store.Count.Should().Be(0);
    }

    [Fact]
    public async Task Post_DeferredLengthWithoutStoreSupport_Answers400()
    {
        var harness = EngineHarness.Create(store: new InMemoryStore { HasDeferredLength = false });

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Defer-Length", "1"));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_INVALID_UPLOAD_LENGTH");
    }

    [Fact]
    public async Task Post_AboveMaxSize_Answers413()
    {
        var harness = EngineHarness.Create(o => o.MaxSize = 10);

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "11"));

        response.StatusCode.Should().Be(413);
        response.Error!.Code.Should().Be("ERR_MAX_SIZE_EXCEEDED");
    }

    [Theory]
    [InlineData("key")]
    [InlineData("key dmFsdWU=,key b3RoZXI=")]
    [InlineData("key not-base64!")]
    [InlineData(",")]
    [InlineData("k\u00e9y dmFsdWU=")]
    [InlineData("key dmFs dWU=")]
    public async Task Post_InvalidMetadata_Answers400(string metadata)
    {
        var harness = EngineHarness.Create();
        if (metadata == "key")
        {
            // A key without a value is valid: the control case for this theory.
            (await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1").Header("Upload-Metadata", metadata))).StatusCode.Should().Be(201);
            return;
        }

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1").Header("Upload-Metadata", metadata));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_INVALID_METADATA");
    }

    [Fact]
    public async Task Post_Metadata_IsKeptAsExactBytes()
    {
        var harness = EngineHarness.Create();
        var binary = new byte[] { 0xff, 0x00, 0xc3, 0x28 };
        var header = $"filename {Convert.ToBase64String(Encoding.UTF8.GetBytes("résumé ✓.txt"))},raw {Convert.ToBase64String(binary)},empty";

        var id = await harness.CreateAsync(1, header);

        var info = await harness.Store.GetAsync(id, default);
        info!.Metadata.GetString("filename").Should().Be("résumé ✓.txt");
        info.Metadata.TryGetValue("raw", out var raw).Should().BeTrue();
        raw.ToArray().Should().Equal(binary);
        info.Metadata.GetString("raw").Should().BeNull("the bytes are not UTF-8");
        info.Metadata.ContainsKey("empty").Should().BeTrue();
        (await harness.HeadAsync(id)).GetHeader("Upload-Metadata").Should().Be(header);
    }

    [Fact]
    public async Task Post_WithBody_CreatesAndWritesInOneRequest()
    {
        var harness = EngineHarness.Create();
        var request = TestRequest.WithBytes("POST", "", "hello"u8.ToArray()).OffsetStream().Header("Upload-Length", "11");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(201);
        response.GetHeader("Upload-Offset").Should().Be("5");
        harness.Store.DataOf(EngineHarness.IdOf(response)).Should().Equal("hello"u8.ToArray());
    }

    [Fact]
    public async Task Post_WithBodyLongerThanLength_KeepsUploadAndAnswers413WithLocation()
    {
        var harness = EngineHarness.Create();
        var request = TestRequest.WithBytes("POST", "", "hello world"u8.ToArray()).OffsetStream().Header("Upload-Length", "5");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(413);
        response.GetHeader("Location").Should().NotBeNull("the upload exists and can be resumed");
    }

    [Fact]
    public async Task Post_BodyWithOtherContentType_IsNotWritten()
    {
        var harness = EngineHarness.Create();
        var request = TestRequest.WithBytes("POST", "", "hello"u8.ToArray()).Header("Content-Type", "text/plain").Header("Upload-Length", "5");

        var response = await harness.SendAsync(request);

        response.StatusCode.Should().Be(201);
        response.GetHeader("Upload-Offset").Should().BeNull();
        harness.Store.DataOf(EngineHarness.IdOf(response)).Should().BeEmpty();
    }

    [Fact]
    public async Task Post_BeforeCreateHook_ChangesIdAndMetadata()
    {
        var harness = EngineHarness.WithHooks(new Hook.PreCreate((context, _) =>
        {
            context.UploadId = "chosen-by-hook";
            context.Metadata = context.Metadata.With("owner", "alice"u8.ToArray());
            return ValueTask.CompletedTask;
        }));

        var id = await harness.CreateAsync(3, "name YQ==");

        id.Should().Be("chosen-by-hook");
        var info = await harness.Store.GetAsync(id, default);
        info!.Metadata.GetString("owner").Should().Be("alice");
        info.Metadata.GetString("name").Should().Be("a");
    }

    [Fact]
    public async Task Post_BeforeCreateHook_CannotSetInvalidId()
    {
        var harness = EngineHarness.WithHooks(new Hook.PreCreate((context, _) =>
        {
            context.UploadId = "../escape";
            return ValueTask.CompletedTask;
        }));

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1"));

        response.StatusCode.Should().Be(500);
        EngineHarness.Text(response).Should().NotContain("escape");
        harness.Store.Count.Should().Be(0);
    }

    [Fact]
    public async Task Post_BeforeCreateHookRejects_AnswersItsError()
    {
        var harness = EngineHarness.WithHooks(new Hook.PreCreate((context, _) =>
        {
            context.Reject(new TusError("ERR_QUOTA", 403, "quota reached"));
            return ValueTask.CompletedTask;
        }));

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1"));

        response.StatusCode.Should().Be(403);
        EngineHarness.Text(response).Should().Be("ERR_QUOTA: quota reached\n");
        harness.Store.Count.Should().Be(0);
    }

    [Fact]
    public async Task Post_HookChoosesExistingId_Answers409()
    {
        var harness = EngineHarness.WithHooks(new Hook.PreCreate((context, _) =>
        {
            context.UploadId = "fixed";
            return ValueTask.CompletedTask;
        }));
        await harness.CreateAsync(1);

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1"));

        response.StatusCode.Should().Be(409);
        response.Error!.Code.Should().Be("ERR_UPLOAD_ALREADY_EXISTS");
    }

    [Fact]
    public async Task Post_CreatedAndCompletedHooks_Fire()
    {
        var events = new List<string>();
        var harness = EngineHarness.WithHooks(
            new Hook.PostCreate((c, _) => { lock (events) { events.Add("created:" + c.Upload.Length); } return ValueTask.CompletedTask; }),
            new Hook.PostFinish((c, _) => { lock (events) { events.Add("completed:" + c.Upload.Offset); } return ValueTask.CompletedTask; }));

        await harness.SendAsync(TestRequest.WithBytes("POST", "", "abc"u8.ToArray()).OffsetStream().Header("Upload-Length", "3"));
        await harness.PostHooksRunAsync();
        await harness.CreateAsync(0);
        await harness.PostHooksRunAsync();

        events.Should().Equal("created:3", "completed:3", "created:0", "completed:0");
    }

    [Fact]
    public async Task Post_StoreThrowsUnexpectedly_Answers500WithoutDetails()
    {
        var harness = EngineHarness.Create();
        harness.Store.FailNext = new InvalidOperationException("secret path /var/lib/x");

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1"));

        response.StatusCode.Should().Be(500);
        EngineHarness.Text(response).Should().Be("ERR_INTERNAL_SERVER_ERROR: internal server error\n");
    }

    [Theory]
    [InlineData("storage-full", 507, "ERR_STORAGE_FULL")]
    [InlineData("unavailable", 503, "ERR_STORE_UNAVAILABLE")]
    public async Task Post_StoreThrowsKnownException_IsMapped(string kind, int status, string code)
    {
        var harness = EngineHarness.Create();
        harness.Store.FailNext = kind == "storage-full"
            ? new Tus.Stores.StorageFullException("disk full")
            : new Tus.Stores.StoreUnavailableException("down");

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "1"));

        response.StatusCode.Should().Be(status);
        response.Error!.Code.Should().Be(code);
    }

    [Fact]
    public async Task Post_OnUploadUrl_Answers405()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(1);

        var response = await harness.SendAsync(new TestRequest("POST", id).Header("Upload-Length", "1"));

        response.StatusCode.Should().Be(405);
    }
}
