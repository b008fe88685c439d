using Tus.Protocol;

namespace Tus.Core.Tests.Protocol;

public sealed class ProtocolTypeTests
{
    [Fact]
    public void UploadId_New_Is128RandomBitsInHex()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => UploadId.New()).ToList();

        ids.Should().OnlyHaveUniqueItems();
        ids.Should().AllSatisfy(id => id.Should().MatchRegex("^[0-9a-f]{32}$"));
    }

    [Theory]
    [InlineData("abc", true)]
    [InlineData("A-b_9", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("a%2Fb", false)]
    [InlineData("a b", false)]
    [InlineData("é", false)]
    public void UploadId_IsValid_AcceptsOnlyTheSafeAlphabet(string id, bool valid) =>
        UploadId.IsValid(id).Should().Be(valid);

    [Fact]
    public void UploadId_IsValid_RejectsOverlongIds()
    {
        UploadId.IsValid(new string('a', 128)).Should().BeTrue();
        UploadId.IsValid(new string('a', 129)).Should().BeFalse();
    }

    [Fact]
    public void Metadata_RoundTrips()
    {
        UploadMetadata.TryParse(" a YQ==, b ,c Yw==", out var metadata).Should().BeTrue();

        metadata.Should().NotBeNull();
        metadata!.Select(e => e.Key).Should().Equal("a", "b", "c");
        metadata!.GetString("a").Should().Be("a");
        metadata.GetString("b").Should().BeEmpty();
        metadata.ToString().Should().Be("a YQ==,b,c Yw==");
    }

    [Fact]
    public void Metadata_Create_RejectsDuplicateAndInvalidKeys()
    {
        var duplicate = () => UploadMetadata.FromStrings([new("k", "1"), new("k", "2")]);
        var invalid = () => UploadMetadata.FromStrings([new("a b", "1")]);

        duplicate.Should().Throw<ArgumentException>();
        invalid.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Metadata_EmptyHeader_IsEmpty()
    {
        UploadMetadata.TryParse(null, out var none).Should().BeTrue();
        UploadMetadata.TryParse("  ", out var blank).Should().BeTrue();

        none.Should().BeSameAs(UploadMetadata.Empty);
        blank.Should().BeSameAs(UploadMetadata.Empty);
    }

    [Fact]
    public void Errors_HaveUniqueCodesAndClientErrorOrServerErrorStatuses()
    {
        TusError.All.Select(e => e.Code).Should().OnlyHaveUniqueItems();
        TusError.All.Should().AllSatisfy(e => e.StatusCode.Should().BeInRange(400, 599));
    }

    [Fact]
    public void UploadInfo_DefaultStorage_IsEmptyAndCannotBeChanged()
    {
        var storage = new Tus.Stores.UploadInfo { Id = "a" }.Storage;

        storage.Should().BeEmpty();
        var asDictionary = storage.Should().BeAssignableTo<IDictionary<string, string>>().Subject;
        asDictionary.IsReadOnly.Should().BeTrue("every upload without storage details shares this instance");
        FluentActions.Invoking(() => asDictionary["hook"] = "x").Should().Throw<NotSupportedException>();
    }
}
