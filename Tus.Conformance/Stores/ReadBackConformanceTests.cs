using Tus.Conformance.Internal;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// Reading back (<see cref="ITusStore.OpenReadAsync"/>): whole uploads and exact byte ranges, as downloads with a
/// <c>Range</c> header and checksum trailers ask for them, of finished and unfinished uploads. Every store must pass it.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class ReadBackConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    private const long Size = 300_007;

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected ReadBackConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>Reading the whole upload gives every byte, in order, and nothing more.</summary>
    [Fact]
    public virtual async Task OpenReadAsync_WholeUpload_ReturnsEveryByte()
    {
        var upload = await CreateWithDataAsync();

        var data = await ReadAsync(upload, 0, Size);

        Assert.Equal(Size, data.Length);
        Assert.Equal(-1, Pattern.FirstMismatch(data, 20, 0));
    }

    /// <summary>Ranges anywhere in the upload (the first byte, the last byte, across 4 KiB and 64 KiB boundaries, a
    /// suffix) give exactly their bytes: no byte before, none after.</summary>
    [Fact]
    public virtual async Task OpenReadAsync_Ranges_ReturnExactlyTheirBytes()
    {
        var upload = await CreateWithDataAsync();
        (long Offset, long Length)[] ranges = [(0, 1), (1, 1), (Size - 1, 1), (4095, 2), (65535, 65538), (12345, 100_000), (Size - 1000, 1000), (1, Size - 2)];

        foreach (var (offset, length) in ranges)
        {
            var data = await ReadAsync(upload, offset, length);

            Assert.True(data.Length == length, $"Reading {length} bytes at offset {offset} gave {data.Length} bytes.");
            var mismatch = Pattern.FirstMismatch(data, 20, offset);
            Assert.True(mismatch < 0, $"Reading {length} bytes at offset {offset} gave a wrong byte at position {mismatch}.");
        }
    }

    /// <summary>An empty range, at the start or at the end, gives an empty stream.</summary>
    [Fact]
    public virtual async Task OpenReadAsync_EmptyRange_ReturnsNoBytes()
    {
        var upload = await CreateWithDataAsync();

        Assert.Empty(await ReadAsync(upload, 0, 0));
        Assert.Empty(await ReadAsync(upload, Size, 0));
        Assert.Empty(await ReadAsync(upload, 777, 0));
    }

    /// <summary>The stored bytes of an unfinished upload can be read. The engine itself never reads an unfinished upload;
    /// reported skipped for a store whose fixture says it cannot (<see cref="IStoreFixture.ReadsUnfinishedUploads"/>).</summary>
    [Fact]
    public virtual async Task OpenReadAsync_UnfinishedUpload_ReadsTheStoredBytes()
    {
        Assert.SkipUnless(Fixture.ReadsUnfinishedUploads, "The fixture says the store cannot read an unfinished upload (ReadsUnfinishedUploads is false); the engine never needs it to.");
        var upload = await CreateUploadAsync(1_000_000);
        upload = await AppendPatternAsync(upload, seed: 21, 5000);
        upload = await AppendPatternAsync(upload, seed: 21, 70_000);

        var all = await ReadAsync(upload, 0, 75_000);
        var last = await ReadAsync(upload, 5000, 70_000);

        Assert.Equal(75_000, all.Length);
        Assert.Equal(-1, Pattern.FirstMismatch(all, 21, 0));
        Assert.Equal(70_000, last.Length);
        Assert.Equal(-1, Pattern.FirstMismatch(last, 21, 5000));
    }

    /// <summary>The stream gives the same bytes when read one byte, then a few bytes, at a time.</summary>
    [Fact]
    public virtual async Task OpenReadAsync_SmallReads_ReturnTheSameBytes()
    {
        var upload = await CreateWithDataAsync();
        const long offset = 4000;
        const int length = 9000;

        var stream = await Store.OpenReadAsync(upload, offset, length, Ct);
        var data = new List<byte>(length);
        await using (stream)
        {
            var single = new byte[1];
            for (var i = 0; i < 10; i++)
            {
                var read = await stream.ReadAsync(single, Ct);
                Assert.True(read == 1, $"A one-byte read at position {i} of the range gave {read} bytes.");
                data.Add(single[0]);
            }

            var small = new byte[7];
            int count;
            while ((count = await stream.ReadAsync(small, Ct)) > 0)
            {
                data.AddRange(small.AsSpan(0, count).ToArray());
            }
        }

        Assert.Equal(length, data.Count);
        Assert.Equal(-1, Pattern.FirstMismatch(data.ToArray(), 20, offset));
    }

    /// <summary>Two streams open over different ranges of the same upload at once each give their own range.</summary>
    [Fact]
    public virtual async Task OpenReadAsync_TwoStreamsAtOnce_EachReturnTheirRange()
    {
        var upload = await CreateWithDataAsync();

        var first = await Store.OpenReadAsync(upload, 10, 50_000, Ct);
        var second = await Store.OpenReadAsync(upload, 200_000, 60_000, Ct);
        byte[] a, b;
        await using (first)
        await using (second)
        {
            var readFirst = ReadAllInSmallPiecesAsync(first);
            var readSecond = ReadAllInSmallPiecesAsync(second);
            a = await readFirst;
            b = await readSecond;
        }

        Assert.Equal(50_000, a.Length);
        Assert.Equal(-1, Pattern.FirstMismatch(a, 20, 10));
        Assert.Equal(60_000, b.Length);
        Assert.Equal(-1, Pattern.FirstMismatch(b, 20, 200_000));
    }

    /// <summary>
    /// The token given to OpenReadAsync bounds opening the stream only: once it has fired (the store-call timeout of a
    /// download that outlasts it), the stream still gives its whole range. Reads get tokens of their own.
    /// </summary>
    [Fact]
    public virtual async Task OpenReadAsync_OpenTokenFiresAfterwards_StreamStillReadsItsRange()
    {
        var upload = await CreateWithDataAsync();
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var stream = await Store.OpenReadAsync(upload, 1000, 150_001, opening.Token);
        await opening.CancelAsync();
        byte[] data;
        Exception? failure;
        await using (stream)
        {
            using var copy = new MemoryStream();
            failure = await Record.ExceptionAsync(async () => await stream.CopyToAsync(copy, Ct));
            data = copy.ToArray();
        }

        Assert.True(
            failure is null,
            $"Reading the stream OpenReadAsync(upload '{upload.Id}', 1000, 150001) returned threw {failure?.GetType().Name} after {data.Length} bytes, once the token given to OpenReadAsync had fired: that token bounds the opening only.");
        Assert.True(data.Length == 150_001, $"The stream of OpenReadAsync(upload '{upload.Id}', 1000, 150001) gave {data.Length} bytes after the opening token fired.");
        var mismatch = Pattern.FirstMismatch(data, 20, 1000);
        Assert.True(mismatch < 0, $"The stream of OpenReadAsync(upload '{upload.Id}', 1000, 150001) gave a wrong byte at offset {mismatch}.");
    }

    private async Task<UploadInfo> CreateWithDataAsync()
    {
        var upload = await CreateUploadAsync(Size);
        return await AppendPatternAsync(upload, seed: 20, Size);
    }

    private static async Task<byte[]> ReadAllInSmallPiecesAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[1000];
        int read;
        while ((read = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            copy.Write(buffer, 0, read);
            await Task.Yield();
        }

        return copy.ToArray();
    }
}
