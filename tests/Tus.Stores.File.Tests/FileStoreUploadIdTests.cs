using Tus.Protocol;

namespace Tus.Stores.Tests;

/// <summary>No id can make the store touch anything outside its directory: every method taking an id rejects bad ones.</summary>
public sealed class FileStoreUploadIdTests : FileStoreTestBase
{
    public static TheoryData<string> InvalidIds() =>
    [
        "../x",
        "..",
        ".",
        "a/b",
        "a\\b",
        "/etc/passwd",
        "../outside.txt",
        "..%2foutside.txt",
        "%2e%2e",
        "",
        " ",
        "a.info",
        "a b",
        "é",
        new string('a', UploadId.MaxLength + 1),
    ];

    [Fact]
    public async Task Ids_LongestValidId_IsAccepted()
    {
        var id = new string('z', UploadId.MaxLength);

        var upload = await CreateWithDataAsync([1, 2], template: new NewUpload { Id = id });

        upload.Id.Should().Be(id);
        File.Exists(DataPath(id)).Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task CreateAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.CreateAsync(new NewUpload { Id = id, Length = 1 }, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task CreateAsync_InvalidPartialIdOfFinal_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final(["ok", id]) }, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task GetAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.GetAsync(id, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task AppendAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.AppendAsync(Bad(id), new MemoryStream([1, 2, 3]), Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task OpenReadAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.OpenReadAsync(Bad(id), 0, 1, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task DeleteAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.Termination!.DeleteAsync(id, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task RemoveExpiredAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.Expiration!.RemoveExpiredAsync(id, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task SetExpiryAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.Expiration!.SetExpiryAsync(Bad(id), Clock.Now, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task SetLengthAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.DeferredLength!.SetLengthAsync(Bad(id) with { Length = null }, 5, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public Task DiscardFromAsync_InvalidId_ThrowsArgumentException(string id) =>
        ShouldRejectAsync(() => Store.Checksum!.DiscardFromAsync(Bad(id), 0, Ct).AsTask());

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public async Task ConcatenateAsync_InvalidFinalId_ThrowsArgumentException(string id)
    {
        var partial = await CreateWithDataAsync([1, 2, 3]);

        await ShouldRejectAsync(() => Store.Concatenation!.ConcatenateAsync(Bad(id) with { Concatenation = UploadConcatenation.Final([partial.Id]), Length = null }, [partial], Ct).AsTask());
    }

    [Theory]
    [MemberData(nameof(InvalidIds))]
    public async Task ConcatenateAsync_InvalidPartialId_ThrowsArgumentExceptionAndLeavesFinalEmpty(string id)
    {
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final(["p"]) }, Ct);

        await ShouldRejectAsync(() => Store.Concatenation!.ConcatenateAsync(final, [Bad(id)], Ct).AsTask());

        (await Store.GetAsync(final.Id, Ct))!.Offset.Should().Be(0);
    }

    private static UploadInfo Bad(string id) => new() { Id = id, Length = 3, Offset = 3, Concatenation = UploadConcatenation.Partial };

    private async Task ShouldRejectAsync(Func<Task> act)
    {
        var before = Snapshot();

        // Exactly ArgumentException: the other arguments are valid, so only the id can be what is rejected.
        await act.Should().ThrowExactlyAsync<ArgumentException>();

        Snapshot().Should().Equal(before, "nothing may be created, changed or removed for an invalid id");
        File.ReadAllText(Path.Combine(Root, "outside.txt")).Should().Be("not the store's");
    }
}
