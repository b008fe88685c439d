using System.Text;
using Tus.Core.Tests.Infrastructure;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Core.Tests.Faults;

/// <summary>Store failures: coded ones answered with their error, unknown ones as a bare 500, and the kept offset reported.</summary>
public sealed class StoreFailureTests
{
    private const string Secret = "SECRET /var/lib/backend/key=hunter2";

    private static readonly TusError Custom = new("ERR_TENANT_SUSPENDED", 403, "this tenant cannot upload right now");

    public static TheoryData<string, int, string> Failures => new()
    {
        { "StorageFull", 507, "ERR_STORAGE_FULL" },
        { "StoreUnavailable", 503, "ERR_STORE_UNAVAILABLE" },
        { "QuotaExceeded", 413, "ERR_QUOTA_EXCEEDED" },
        { "UploadNotFound", 404, "ERR_UPLOAD_NOT_FOUND" },
        { "Custom", 403, "ERR_TENANT_SUSPENDED" },
        { "Unknown", 500, "ERR_INTERNAL_SERVER_ERROR" },
        { "ForeignCancellation", 500, "ERR_INTERNAL_SERVER_ERROR" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Patch_AppendThrowsAfterPersistingSomeBytes_AnswersItsErrorWithTheOffsetOfAFreshLookup(string kind, int status, string code)
    {
        using var harness = FaultHarness.Create();
        var id = await harness.CreateAsync(20);
        harness.Store.Append = async (upload, data, token) =>
        {
            // Every byte of the body is read (so the engine saw 10), but only 4 were persisted before the backend failed.
            await harness.Store.ReadAllThenPersistAsync(upload, data, 4, token);
            throw Create(kind, id);
        };

        var response = await harness.SendAsync(FaultHarness.Patch(id, 0, Encoding.ASCII.GetBytes("0123456789")));

        response.StatusCode.Should().Be(status);
        response.Error!.Code.Should().Be(code);
        response.GetHeader("Upload-Offset").Should().Be("4");
        harness.Log.After("Append:returned").Should().StartWith("Get", "the offset comes from a lookup made after the append failed");
        AssertNothingLeaked(harness, response);
        var head = await harness.HeadAsync(id);
        head.StatusCode.Should().Be(200);
        head.GetHeader("Upload-Offset").Should().Be("4", "HEAD agrees with the PATCH answer");
    }

    [Fact]
    public async Task Patch_AppendThrowsAndTheLookupFailsToo_AnswersWithoutAnOffset()
    {
        using var harness = FaultHarness.Create();
        var id = await harness.CreateAsync(20);
        harness.Store.Append = async (upload, data, token) =>
        {
            await harness.Store.ReadAllThenPersistAsync(upload, data, 4, token);
            harness.Store.Before = (method, _) => method == "Get" ? throw new IOException(Secret) : ValueTask.CompletedTask;
            throw new StoreUnavailableException(Secret);
        };

        var response = await harness.SendAsync(FaultHarness.Patch(id, 0, Encoding.ASCII.GetBytes("0123456789")));

        response.StatusCode.Should().Be(503);
        response.GetHeader("Upload-Offset").Should().BeNull("an offset that cannot be vouched for is not guessed");
        AssertNothingLeaked(harness, response);
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task AnyMethod_LookupThrows_AnswersItsErrorWithoutItsMessage(string kind, int status, string code)
    {
        using var harness = FaultHarness.Create();
        var id = await harness.CreateAsync(20);
        harness.Store.Before = (method, _) => method == "Get" ? throw Create(kind, id) : ValueTask.CompletedTask;

        foreach (var request in new[] { FaultHarness.Patch(id, 0, new byte[3]), new TestRequest("DELETE", id), new TestRequest("GET", id) })
        {
            var response = await harness.SendAsync(request);

            response.StatusCode.Should().Be(status, request.Method);
            response.Error!.Code.Should().Be(code);
            AssertNothingLeaked(harness, response);
        }

        var head = await harness.HeadAsync(id);
        head.StatusCode.Should().Be(status);
        head.Body.IsEmpty.Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Post_CreateThrows_AnswersItsErrorWithoutItsMessage(string kind, int status, string code)
    {
        using var harness = FaultHarness.Create();
        harness.Store.Before = (method, _) => method == "Create" ? throw Create(kind, "new") : ValueTask.CompletedTask;

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "5"));

        response.StatusCode.Should().Be(status);
        response.Error!.Code.Should().Be(code);
        AssertNothingLeaked(harness, response);
    }

    private static Exception Create(string kind, string id) => kind switch
    {
        "StorageFull" => new StorageFullException(Secret),
        "StoreUnavailable" => new StoreUnavailableException(Secret, new IOException(Secret)),
        "QuotaExceeded" => new QuotaExceededException(Secret),
        "UploadNotFound" => new UploadNotFoundException(id + Secret),
        "Custom" => new TusStoreException(Custom, Secret),
        "ForeignCancellation" => new TaskCanceledException(Secret),
        _ => new InvalidOperationException(Secret),
    };

    private static void AssertNothingLeaked(FaultHarness harness, Http.TusResponse response)
    {
        var body = EngineHarness.Text(response);
        body.Should().Be(response.Error!.Code + ": " + response.Error.Message + "\n", "the body is the error's code and client message only");
        body.Should().NotContain("SECRET").And.NotContain("hunter2");
        foreach (var (_, value) in response.Headers)
        {
            value.Should().NotContain("SECRET");
        }

        harness.Logger.Entries.Should().Contain(e => e.Contains("SECRET", StringComparison.Ordinal), "the details go to the log");
    }

    [Fact]
    public async Task Post_StoreRefusesWithAClientError_LogsItsDetailAtInformationWithoutAStackTrace()
    {
        using var harness = FaultHarness.Create();
        harness.Store.Before = (method, _) => method == "Create" ? throw new QuotaExceededException(Secret) : ValueTask.CompletedTask;

        var response = await harness.SendAsync(new TestRequest("POST").Header("Upload-Length", "20"));

        response.StatusCode.Should().Be(413);
        var entry = harness.Logger.Entries.Should().ContainSingle(e => e.Contains("SECRET", StringComparison.Ordinal)).Subject;
        entry.Should().StartWith("Information: Store refused POST").And.Contain("413 ERR_QUOTA_EXCEEDED")
            .And.NotContain(Environment.NewLine, "a client's own limit is logged without a stack trace");
        harness.Logger.Entries.Should().NotContain(e => e.StartsWith("Warning", StringComparison.Ordinal) || e.StartsWith("Error", StringComparison.Ordinal));
    }
}
