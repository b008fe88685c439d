namespace Tus.Stores.Internal;

/// <summary>
/// The body of a write to an upload whose length is deferred, as the wrapped store sees it: every byte it hands on was
/// reserved first, so the store can never be given a byte the quota has not granted. When no more can be granted the
/// stream ends; one byte is read ahead to tell a body that ended there from one the quota cut (<see cref="Refused"/>).
/// </summary>
internal sealed class QuotaLimitedStream(Stream body, LimitedStore owner, UploadInfo upload, long cap) : Stream
{
    /// <summary>Bytes reserved per step beyond the read asked for: few gate entries per write, and a small amount held
    /// apart from other uploads while the write runs.</summary>
    internal const int ReservationStep = 256 * 1024;

    private bool _ended;

    /// <summary>Bytes reserved for this write so far; released (and replaced by the stored charge) when it ends.</summary>
    public long Granted { get; private set; }

    /// <summary>Bytes handed to the store.</summary>
    public long Passed { get; private set; }

    /// <summary>Whether the body went on past what the quota granted.</summary>
    public bool Refused { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Passed;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        if (Passed == Granted && !await GrowAsync(buffer.Length, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        var read = await body.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Granted - Passed)], cancellationToken).ConfigureAwait(false);
        Passed += read;
        _ended = read == 0;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        // A store that reads synchronously gets no reclaim: that would block a thread on I/O of other uploads.
        if (Passed == Granted && !Grow(buffer.Length))
        {
            Span<byte> probe = stackalloc byte[1];
            EndOrRefuse(body.Read(probe));
            return 0;
        }

        var read = body.Read(buffer[..(int)Math.Min(buffer.Length, Granted - Passed)]);
        Passed += read;
        _ended = read == 0;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private async ValueTask<bool> GrowAsync(int wanted, CancellationToken cancellationToken)
    {
        if (Grow(wanted))
        {
            return true;
        }

        if (Passed < cap && await owner.ReclaimAsync(ReservationStep, needSlot: false, upload.Id, cancellationToken).ConfigureAwait(false) && Grow(wanted))
        {
            return true;
        }

        var probe = new byte[1];
        EndOrRefuse(await body.ReadAsync(probe, cancellationToken).ConfigureAwait(false));
        return false;
    }

    /// <summary>Reserves the next step of growth, never past <c>cap</c> (the most one upload may hold).</summary>
    /// <returns><see langword="false"/> when nothing more can be granted.</returns>
    private bool Grow(int wanted)
    {
        var step = Math.Min(Math.Max(wanted, ReservationStep), cap - Granted);
        var granted = step > 0 ? owner.Ledger.TryGrow(upload, step) : 0;
        Granted += granted;
        return granted > 0;
    }

    private void EndOrRefuse(int probed)
    {
        // Nothing more was granted: the body either ends exactly here, or it goes on and the quota cut it. The byte read
        // ahead is dropped: the request is refused, and the client resumes from the offset the store reports.
        Refused = probed > 0;
        _ended = true;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }
}
