using Tus.Protocol;
using Tus.Stores.Internal;

namespace Tus.Stores.Tests;

public sealed class DirectorySyncTests
{
    [Fact]
    public void Flush_ExistingDirectory_Succeeds()
    {
        var directory = Directory.CreateTempSubdirectory("tus-dirsync-").FullName;
        try
        {
            var flush = () => DirectorySync.Flush(directory);

            flush.Should().NotThrow();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Flush_MissingDirectory_ThrowsIOExceptionNamingIt_OnLinux()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "directories are flushed on Linux only");
        var missing = Path.Combine(Path.GetTempPath(), "tus-dirsync-missing-" + Guid.NewGuid().ToString("N"));

        var flush = () => DirectorySync.Flush(missing);

        flush.Should().Throw<IOException>().WithMessage($"*{missing}*");
    }

    [Fact]
    public async Task FlushToDisk_CreateAppendAndReadBack_Work()
    {
        var directory = Directory.CreateTempSubdirectory("tus-dirsync-store-").FullName;
        try
        {
            var store = new FileStore(new FileStoreOptions { Directory = directory, FlushToDisk = true }, TimeProvider.System);
            var ct = TestContext.Current.CancellationToken;
            var upload = await store.CreateAsync(new NewUpload { Id = "durable", Length = 3 }, ct);
            await store.AppendAsync(upload, new MemoryStream([1, 2, 3]), ct);

            (await store.GetAsync("durable", ct))!.Offset.Should().Be(3);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
