namespace Tus.Conformance.Internal;

/// <summary>
/// A non-seekable, read-only stream of <see cref="Pattern"/> bytes that holds none of them, so it can stand for a
/// request body of any size and allocates nothing per read. It can end early (a body that broke off), cancel a token
/// once a given number of bytes went out (an engine abandoning a write), and pace its reads so that parallel appends
/// interleave.
/// </summary>
internal sealed class GeneratedStream : Stream
{
    private readonly int _seed;
    private readonly long _start;
    private readonly long _length;

    /// <param name="seed">The pattern's seed.</param>
    /// <param name="start">The pattern position of the first byte (the upload offset the bytes are meant for).</param>
    /// <param name="length">How many bytes the stream has.</param>
    public GeneratedStream(int seed, long start, long length)
    {
        _seed = seed;
        _start = start;
        _length = length;
    }

    /// <summary>The most bytes one read returns.</summary>
    public int MaxRead { get; init; } = 64 * 1024;

    /// <summary>When set, <see cref="CancelSource"/> is cancelled by the first read after this many bytes went out; from
    /// then on reads honour the token they are given (as the engine's body does) and otherwise go on.</summary>
    public long? CancelAfter { get; init; }

    /// <summary>The source <see cref="CancelAfter"/> cancels.</summary>
    public CancellationTokenSource? CancelSource { get; init; }

    /// <summary>Whether reads go on after <see cref="CancelAfter"/> fired instead of honouring the token (a body that does
    /// not watch the store's token), so that only the store's own checks can stop the append.</summary>
    public bool IgnoreToken { get; init; }

    /// <summary>When set, the stream ends after this many bytes whatever its length (a bound for tests of stores that
    /// might read forever).</summary>
    public long? EndAfter { get; init; }

    /// <summary>When set, the first read after this many bytes went out throws <see cref="Failure"/> (a body source that
    /// fails: a broken decoder, a backend read error), and so does every read after it.</summary>
    public long? FailAfter { get; init; }

    /// <summary>What <see cref="FailAfter"/> throws. Default: an <see cref="IOException"/>.</summary>
    public Exception? Failure { get; init; }

    /// <summary>Whether every read waits a millisecond first (a body arriving over a network), so that concurrent
    /// appends interleave whatever the thread pool does.</summary>
    public bool PaceReads { get; init; }

    /// <summary>How many bytes went out so far.</summary>
    public long Delivered { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException("The stream is not seekable.");

    public override long Position
    {
        get => throw new NotSupportedException("The stream is not seekable.");
        set => throw new NotSupportedException("The stream is not seekable.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Produce(buffer.AsSpan(offset, count), CancellationToken.None);

    public override int Read(Span<byte> buffer) => Produce(buffer, CancellationToken.None);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (PaceReads)
        {
            return PacedProduceAsync(buffer, cancellationToken);
        }

        try
        {
            return new ValueTask<int>(Produce(buffer.Span, cancellationToken));
        }
        catch (Exception exception) when (exception is OperationCanceledException || FailAfter is not null)
        {
            return ValueTask.FromException<int>(exception);
        }
    }

    private async ValueTask<int> PacedProduceAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        return Produce(buffer.Span, cancellationToken);
    }

    private int Produce(Span<byte> buffer, CancellationToken cancellationToken)
    {
        if (CancelAfter is { } cancelAfter && Delivered >= cancelAfter && CancelSource is { } source)
        {
            source.Cancel();
            if (!IgnoreToken)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        if (FailAfter is { } failAfter && Delivered >= failAfter)
        {
            throw Failure ?? new IOException($"The body source failed after {Delivered} bytes.");
        }

        var count = (int)Math.Min(Math.Min(buffer.Length, MaxRead), Math.Min(_length, EndAfter ?? long.MaxValue) - Delivered);
        if (CancelAfter is { } limit && Delivered < limit)
        {
            count = (int)Math.Min(count, limit - Delivered);
        }

        if (FailAfter is { } failLimit)
        {
            count = (int)Math.Min(count, failLimit - Delivered);
        }

        if (count <= 0)
        {
            return 0;
        }

        Pattern.Fill(buffer[..count], _seed, _start + Delivered);
        Delivered += count;
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("The stream is not seekable.");

    public override void SetLength(long value) => throw new NotSupportedException("The stream is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The stream is read-only.");
}
