namespace Tus.Core.Tests.Infrastructure;

/// <summary>A read-only, forward-only body that hands out <paramref name="first"/> and then does what the subclass says.</summary>
internal abstract class ScriptedBodyStream(byte[] first) : Stream
{
    private int _position;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < first.Length)
        {
            var count = Math.Min(buffer.Length, first.Length - _position);
            first.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return count;
        }

        return await AfterFirstBytesAsync(cancellationToken);
    }

    /// <summary>What happens once the first bytes are out.</summary>
    protected abstract ValueTask<int> AfterFirstBytesAsync(CancellationToken cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Sends some bytes, then stalls until cancelled (a client gone silent).</summary>
internal sealed class StallingStream(byte[] first) : ScriptedBodyStream(first)
{
    public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async ValueTask<int> AfterFirstBytesAsync(CancellationToken cancellationToken)
    {
        Stalled.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }
}

/// <summary>Sends some bytes, then fails as a reset connection does.</summary>
internal sealed class BreakingStream(byte[] first) : ScriptedBodyStream(first)
{
    protected override ValueTask<int> AfterFirstBytesAsync(CancellationToken cancellationToken) =>
        throw new IOException("connection reset by peer");
}
