using System.Text;
using Tus.Core.Tests.Infrastructure;
using Tus.Engine;
using Tus.Protocol;

namespace Tus.Core.Tests.Engine;

public sealed class DownloadTests
{
    private static async Task<(EngineHarness Harness, string Id)> FinishedUploadAsync(string content, string? metadata = null)
    {
        var harness = EngineHarness.Create();
        var bytes = Encoding.UTF8.GetBytes(content);
        var id = await harness.CreateAsync(bytes.Length, metadata);
        await harness.PatchAsync(id, 0, bytes);
        return (harness, id);
    }

    [Fact]
    public async Task Get_FinishedUpload_StreamsItWithSafeHeaders()
    {
        var (harness, id) = await FinishedUploadAsync("hello world", $"filetype {B64("text/html")},filename {B64("page.html")}");

        var response = await harness.SendAsync(new TestRequest("GET", id, tus: false));

        response.StatusCode.Should().Be(200);
        (await EngineHarness.ReadBodyAsync(response)).Should().Equal("hello world"u8.ToArray());
        response.ContentLength.Should().Be(11);
        response.GetHeader("Content-Type").Should().Be("text/html");
        response.GetHeader("Content-Disposition").Should().StartWith("attachment;", "HTML must never render inline");
        response.GetHeader("X-Content-Type-Options").Should().Be("nosniff");
        response.GetHeader("Accept-Ranges").Should().Be("bytes");
    }

    [Theory]
    [InlineData("image/png", "inline")]
    [InlineData("text/plain", "inline")]
    [InlineData("image/svg+xml", "attachment")]
    [InlineData("application/pdf", "attachment")]
    [InlineData("text/html; charset=utf-8", "attachment")]
    public void ContentHeaders_FileType_ChoosesDisposition(string filetype, string disposition)
    {
        var metadata = UploadMetadata.FromStrings([new("filetype", filetype)]);

        var (contentType, actual) = GetHandler.ContentHeaders(metadata);

        actual.Should().Be(disposition);
        if (filetype.Contains(';', StringComparison.Ordinal))
        {
            contentType.Should().Be("application/octet-stream", "a type that does not parse is not echoed");
        }
    }

    [Fact]
    public void ContentHeaders_NonAsciiFileName_IsEncodedPerRfc6266()
    {
        var metadata = UploadMetadata.FromStrings([new("filename", "naïve \"résumé\".txt")]);

        var (_, disposition) = GetHandler.ContentHeaders(metadata);

        disposition.Should().Be("attachment; filename=\"na_ve _r_sum__.txt\"; filename*=UTF-8''na%C3%AFve%20%22r%C3%A9sum%C3%A9%22.txt");
    }

    [Fact]
    public void ContentHeaders_HeaderInjectionInFileName_IsNeutralised()
    {
        var metadata = UploadMetadata.FromStrings([new("filename", "a\r\nSet-Cookie: x=1")]);

        var (_, disposition) = GetHandler.ContentHeaders(metadata);

        disposition.Should().NotContainAny("\r", "\n");
    }

    [Theory]
    [InlineData("bytes=0-4", 206, "hello", "bytes 0-4/11")]
    [InlineData("bytes=6-", 206, "world", "bytes 6-10/11")]
    [InlineData("bytes=-5", 206, "world", "bytes 6-10/11")]
    [InlineData("bytes=6-100", 206, "world", "bytes 6-10/11")]
    [InlineData("bytes=0-1,3-4", 200, "hello world", null)]
    [InlineData("items=0-1", 200, "hello world", null)]
    public async Task Get_Range_ServesThatRange(string range, int status, string body, string? contentRange)
    {
        var (harness, id) = await FinishedUploadAsync("hello world");

        var response = await harness.SendAsync(new TestRequest("GET", id).Header("Range", range));

        response.StatusCode.Should().Be(status);
        Encoding.UTF8.GetString(await EngineHarness.ReadBodyAsync(response)).Should().Be(body);
        response.GetHeader("Content-Range").Should().Be(contentRange);
    }

    [Fact]
    public async Task Get_RangeBeyondEnd_Answers416()
    {
        var (harness, id) = await FinishedUploadAsync("hello world");

        var response = await harness.SendAsync(new TestRequest("GET", id).Header("Range", "bytes=11-"));

        response.StatusCode.Should().Be(416);
        response.GetHeader("Content-Range").Should().Be("bytes */11");
    }

    [Fact]
    public async Task Get_UnfinishedUpload_Answers400()
    {
        var harness = EngineHarness.Create();
        var id = await harness.CreateAsync(10);

        var response = await harness.SendAsync(new TestRequest("GET", id));

        response.StatusCode.Should().Be(400);
        response.Error!.Code.Should().Be("ERR_UPLOAD_NOT_FINISHED");
    }

    [Fact]
    public async Task Get_WhileAnotherRequestWrites_DoesNotInterruptIt()
    {
        var harness = EngineHarness.Create(o => o.ReadTimeout = TimeSpan.FromMinutes(5));
        var id = await harness.CreateAsync(100);
        var stalled = new StallingStream("abc"u8.ToArray());
        var request = new TestRequest("PATCH", id, stalled, 100).OffsetStream().Header("Upload-Offset", "0");
        var writing = harness.SendAsync(request);
        await stalled.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var download = await harness.SendAsync(new TestRequest("GET", id));

        download.StatusCode.Should().Be(400);
        writing.IsCompleted.Should().BeFalse("a download must not end an upload in progress");
        await request.AbortSource.CancelAsync();
        await writing.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Get_PendingFinalUpload_IsAssembledOnDemand()
    {
        var harness = EngineHarness.Create();
        var a = await harness.CreateAsync(2, concat: "partial");
        var final = await harness.CreateAsync(null, concat: $"final;/files/{a}");
        await harness.PatchAsync(a, 0, "ok"u8.ToArray());

        var response = await harness.SendAsync(new TestRequest("GET", final));

        response.StatusCode.Should().Be(200);
        (await EngineHarness.ReadBodyAsync(response)).Should().Equal("ok"u8.ToArray());
    }

    [Fact]
    public async Task Get_DownloadDisabled_Answers405()
    {
        var harness = EngineHarness.Create(o => o.EnableDownload = false);
        var id = await harness.CreateAsync(0);

        var response = await harness.SendAsync(new TestRequest("GET", id));

        response.StatusCode.Should().Be(405);
    }

    private static string B64(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value));
}
