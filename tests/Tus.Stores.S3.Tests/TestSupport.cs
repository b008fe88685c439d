using Amazon.S3;
using Amazon.S3.Model;
using Tus.Protocol;

namespace Tus.Stores.S3.Tests;

/// <summary>Deterministic test bytes: the byte at position p of seed s.</summary>
public static class Bytes
{
    public static byte At(int seed, long position) => (byte)((position * 31) + (seed * 7) + (position >> 11));

    public static byte[] Make(int seed, long from, int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            bytes[i] = At(seed, from + i);
        }

        return bytes;
    }
}

/// <summary>A non-seekable stream of <see cref="Bytes"/> from a position, in reads of at most <see cref="MaxRead"/>.</summary>
public sealed class PatternStream(int seed, long from, long count) : Stream
{
    private long _given;

    public int MaxRead { get; init; } = 64 * 1024;

    /// <summary>When set, the stream throws this after <see cref="FailAfter"/> bytes.</summary>
    public Exception? Failure { get; init; }

    public long FailAfter { get; init; } = long.MaxValue;

    /// <summary>When set, cancelled once the stream has given <see cref="CancelAfter"/> bytes (the stream keeps giving).</summary>
    public CancellationTokenSource? CancelSource { get; init; }

    public long CancelAfter { get; init; } = long.MaxValue;

    public long Given => _given;

    /// <summary>Called once, from a read, when the stream has given <see cref="CallAfter"/> bytes.</summary>
    public Action? Call { get; init; }

    public long CallAfter { get; init; } = long.MaxValue;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (Failure is not null && _given >= FailAfter)
        {
            throw Failure;
        }

        var n = (int)Math.Min(Math.Min(buffer.Length, MaxRead), Math.Min(count - _given, FailAfter - _given));
        if (CancelSource is not null && _given < CancelAfter)
        {
            n = (int)Math.Min(n, CancelAfter - _given);
        }

        for (var i = 0; i < n; i++)
        {
            buffer[i] = Bytes.At(seed, from + _given + i);
        }

        _given += n;
        if (Call is not null && _given - n < CallAfter && _given >= CallAfter)
        {
            Call();
        }

        if (CancelSource is not null && _given == CancelAfter)
        {
            CancelSource.Cancel();
        }

        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _given; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Gives each test a store over a prefix of its own, with 5 MiB parts so that multipart paths run on little data.</summary>
public abstract class S3StoreTestBase : IAsyncLifetime
{
    protected const long MiB = 1024 * 1024;

    protected IAmazonS3 Client { get; private set; } = null!;

    protected string Prefix { get; } = S3TestEnvironment.NewPrefix();

    protected S3Store Store { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected static string Bucket => S3TestEnvironment.Bucket;

    protected virtual void Configure(S3StoreOptions options)
    {
        options.PreferredPartSize = 5 * MiB;
    }

    public async ValueTask InitializeAsync()
    {
        Client = await S3TestEnvironment.RequireClientAsync();
        Store = CreateStore(Configure);
    }

    protected S3Store CreateStore(Action<S3StoreOptions> configure)
    {
        var options = S3TestEnvironment.Options(Prefix);
        configure(options);
        return new S3Store(options, Client, TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        Store?.Dispose();
        if (Client is not null)
        {
            await S3TestEnvironment.CleanAsync(Client, Prefix);
        }
    }

    protected async Task<UploadInfo> CreateAsync(long? length, UploadMetadata? metadata = null, UploadConcatenation? concatenation = null) =>
        await Store.CreateAsync(new NewUpload { Id = UploadId.New(), Length = length, Metadata = metadata ?? UploadMetadata.Empty, Concatenation = concatenation, CreatedAt = new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero) }, Ct);

    protected async Task<UploadInfo> AppendAsync(UploadInfo upload, int seed, long count, int maxRead = 64 * 1024)
    {
        var appended = await Store.AppendAsync(upload, new PatternStream(seed, upload.Offset, count) { MaxRead = maxRead }, Ct);
        appended.Should().Be(count);
        var after = await Store.GetAsync(upload.Id, Ct);
        after!.Offset.Should().Be(upload.Offset + count);
        return after;
    }

    /// <summary>Checks the upload holds the pattern's first <paramref name="length"/> bytes: all of them when it is
    /// finished; of an unfinished one (whose parts S3 cannot read) the committed parts' sizes, read from S3, and the bytes
    /// kept in its record.</summary>
    protected async Task AssertDataAsync(UploadInfo upload, int seed, long length)
    {
        if (!upload.IsComplete)
        {
            var state = await CommittedAsync(upload.Id);
            (state.PartBytes + state.Kept).Should().Be(length, "the committed parts and the kept bytes make the offset");
            upload.Offset.Should().Be(length);
            var kept = await Store.OpenReadAsync(upload, state.PartBytes, state.Kept, Ct);
            await using (kept)
            {
                var bytes = new byte[state.Kept];
                await kept.ReadExactlyAsync(bytes, Ct);
                bytes.Should().Equal(Bytes.Make(seed, state.PartBytes, (int)state.Kept), "the record keeps the bytes after the parts");
            }

            return;
        }

        var stream = await Store.OpenReadAsync(upload, 0, length, Ct);
        await using (stream)
        {
            await AssertStreamAsync(stream, seed, length);
        }
    }

    protected static async Task AssertStreamAsync(Stream stream, int seed, long length)
    {
        var buffer = new byte[1024 * 1024];
        long position = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != Bytes.At(seed, position + i))
                {
                    Assert.Fail($"Wrong byte at {position + i}.");
                }
            }

            position += read;
        }

        position.Should().Be(length);
    }

    /// <summary>The upload's data objects (key suffix after the id, size), as S3 lists them.</summary>
    /// <summary>What S3 holds for an unfinished upload: the current commit record's parts, their sizes as S3 lists them
    /// (each checked against the record), and the bytes the record keeps.</summary>
    protected async Task<(int Parts, long PartBytes, long Kept, List<long> PartSizes)> CommittedAsync(string id)
    {
        var records = (await DataObjectsAsync(id)).Where(o => o.Key.StartsWith(".tail.", StringComparison.Ordinal)).OrderBy(o => o.Key, StringComparer.Ordinal).ToList();
        records.Should().NotBeEmpty("an unfinished upload with bytes has a commit record");
        var fields = records[^1].Key.Split('.');
        var parts = int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture);
        var partBytes = long.Parse(fields[4], System.Globalization.CultureInfo.InvariantCulture);
        var sizes = new List<long>();
        if (parts > 0)
        {
            var multipart = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix + id }, Ct);
            var own = (multipart.MultipartUploads ?? []).Where(u => u.Key == Prefix + id).Should().ContainSingle("one multipart upload holds the upload's parts").Subject;
            var listed = await Client.ListPartsAsync(new ListPartsRequest { BucketName = Bucket, Key = Prefix + id, UploadId = own.UploadId }, Ct);
            sizes = (listed.Parts ?? []).Where(p => p.PartNumber <= parts).OrderBy(p => p.PartNumber).Select(p => p.Size ?? 0).ToList();
            sizes.Should().HaveCount(parts, "every part the record counts is in the multipart upload");
            sizes.Sum().Should().Be(partBytes, "the record's byte count is the sum of its parts");
        }

        return (parts, partBytes, records[^1].Size, sizes);
    }

    protected async Task<List<(string Key, long Size)>> DataObjectsAsync(string id)
    {
        var keys = new List<(string, long)>();
        var page = await Client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = Bucket, Prefix = Prefix + id }, Ct);
        foreach (var entry in page.S3Objects ?? [])
        {
            if (!entry.Key.EndsWith(".info", StringComparison.Ordinal))
            {
                keys.Add((entry.Key[(Prefix.Length + id.Length)..], entry.Size ?? 0));
            }
        }

        return keys;
    }
}
