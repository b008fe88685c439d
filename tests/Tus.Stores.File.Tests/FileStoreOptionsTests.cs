namespace Tus.Stores.Tests;

public sealed class FileStoreOptionsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tus-stores-file-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Constructor_Defaults_AreDocumentedValues()
    {
        var options = new FileStoreOptions();

        options.Directory.Should().Be("data");
        options.FlushToDisk.Should().BeFalse();
        options.BufferSize.Should().Be(128 * 1024);
        options.Validate().Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Validate_EmptyDirectory_ReportsIt(string? directory)
    {
        var problems = new FileStoreOptions { Directory = directory! }.Validate();

        problems.Should().ContainSingle().Which.Should().Contain("Directory");
    }

    [Fact]
    public void Validate_DirectoryWithANulCharacter_ReportsIt()
    {
        var problems = new FileStoreOptions { Directory = "da\0ta" }.Validate();

        problems.Should().ContainSingle().Which.Should().Contain("Directory");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(FileStoreOptions.MinBufferSize - 1)]
    [InlineData(FileStoreOptions.MaxBufferSize + 1)]
    public void Validate_BufferSizeOutOfRange_ReportsIt(int bufferSize)
    {
        var problems = new FileStoreOptions { BufferSize = bufferSize }.Validate();

        problems.Should().ContainSingle().Which.Should().Contain("BufferSize");
    }

    [Theory]
    [InlineData(FileStoreOptions.MinBufferSize)]
    [InlineData(FileStoreOptions.MaxBufferSize)]
    public void Validate_BufferSizeAtTheBounds_IsAccepted(int bufferSize)
    {
        new FileStoreOptions { BufferSize = bufferSize }.Validate().Should().BeEmpty();
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsThemAll()
    {
        var problems = new FileStoreOptions { Directory = "", BufferSize = 1 }.Validate();

        problems.Should().HaveCount(2);
    }

    [Fact]
    public void FileStore_InvalidOptions_ThrowsArgumentExceptionListingEveryProblem()
    {
        var act = () => new FileStore(new FileStoreOptions { Directory = " ", BufferSize = 1 }, TimeProvider.System);

        act.Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("Directory").And.Contain("BufferSize");
    }

    [Fact]
    public void FileStore_NullArguments_ThrowArgumentNull()
    {
        FluentActions.Invoking(() => new FileStore(null!, TimeProvider.System)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new FileStore(new FileStoreOptions { Directory = _root }, null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task FileStore_MissingNestedDirectory_CreatesIt()
    {
        var directory = Path.Combine(_root, "a", "b", "uploads") + Path.DirectorySeparatorChar;

        var store = new FileStore(new FileStoreOptions { Directory = directory }, TimeProvider.System);

        Directory.Exists(directory).Should().BeTrue();
        var upload = await store.CreateAsync(new NewUpload { Id = "x" }, TestContext.Current.CancellationToken);
        upload.Storage["Path"].Should().Be(Path.Combine(Path.GetFullPath(directory), "x"));
        File.Exists(Path.Combine(directory, "x.info")).Should().BeTrue();
    }

    [Fact]
    public async Task FileStore_OptionsChangedAfterConstruction_KeepsTheOriginalDirectory()
    {
        var options = new FileStoreOptions { Directory = Path.Combine(_root, "first") };
        var store = new FileStore(options, TimeProvider.System);

        options.Directory = Path.Combine(_root, "second");
        await store.CreateAsync(new NewUpload { Id = "x" }, TestContext.Current.CancellationToken);

        File.Exists(Path.Combine(_root, "first", "x")).Should().BeTrue();
        Directory.Exists(Path.Combine(_root, "second")).Should().BeFalse();
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
