using Tus.Protocol;

namespace Tus.Stores.Tests;

[CollectionDefinition(nameof(AllocationMeasurements), DisableParallelization = true)]
public sealed class AllocationMeasurements;

/// <summary>
/// Large data streams through with bounded memory. Allocation is measured for the whole process, so these tests run
/// alone (their collection disables parallelisation).
/// </summary>
[Collection(nameof(AllocationMeasurements))]
public sealed class FileStoreLargeDataTests : FileStoreTestBase
{
    private const long Size = 256L * 1024 * 1024;
    private const long AllocationBudget = 32L * 1024 * 1024;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AppendAsync_256MiBFromANonSeekableStream_AllocatesFarLessThanTheData(bool writesItself)
    {
        var upload = await CreateAsync(Size);
        var source = new PatternStream(Size) { WritesItself = writesItself, ChunkSize = writesItself ? 4096 : 64 * 1024 };

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var appended = await Store.AppendAsync(upload, source, Ct);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        appended.Should().Be(Size);
        allocated.Should().BeLessThan(AllocationBudget, "the data must stream through, not be held in memory");
        var stored = (await Store.GetAsync(upload.Id, Ct))!;
        stored.IsComplete.Should().BeTrue();
        await ShouldHoldThePatternAsync(stored, Size);
    }

    [Fact]
    public async Task ConcatenateAsync_TwoLargePartials_AllocatesFarLessThanTheData()
    {
        const long half = Size / 2;
        var first = await CreateAsync(half);
        await Store.AppendAsync(first, new PatternStream(half), Ct);
        var second = await CreateAsync(half);
        await Store.AppendAsync(second, new PatternStream(half), Ct);
        UploadInfo[] partials = [(await Store.GetAsync(first.Id, Ct))!, (await Store.GetAsync(second.Id, Ct))!];
        var final = await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Concatenation = UploadConcatenation.Final([first.Id, second.Id]) }, Ct);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await Store.Concatenation!.ConcatenateAsync(final, partials, Ct);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        result.Offset.Should().Be(Size);
        allocated.Should().BeLessThan(AllocationBudget, "partials must be streamed, not read whole");
        new FileInfo(DataPath(final.Id)).Length.Should().Be(Size);
    }

    private async Task ShouldHoldThePatternAsync(UploadInfo upload, long length)
    {
        await using var stream = await Store.OpenReadAsync(upload, 0, length, Ct);
        var buffer = new byte[1024 * 1024];
        var expected = new byte[buffer.Length];
        long position = 0;
        while (true)
        {
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, Ct);
            if (read == 0)
            {
                break;
            }

            PatternStream.Fill(expected.AsSpan(0, read), position);
            if (!buffer.AsSpan(0, read).SequenceEqual(expected.AsSpan(0, read)))
            {
                Assert.Fail($"The data differs from the pattern in the megabyte at {position}.");
            }

            position += read;
        }

        position.Should().Be(length);
    }
}
