using System.Collections.Concurrent;
using Tus.Stores;

namespace Tus.Conformance.Internal;

/// <summary>
/// Forwards every call to the store under test, declaring exactly its capabilities, and counts the bytes the store has
/// read from each request body, so a test can break a request off at a known point.
/// </summary>
internal sealed class ObservedStore(ITusStore inner) : ITusStore
{
    private readonly ConcurrentDictionary<string, long> _consumed = new(StringComparer.Ordinal);

    public ITusStore Inner => inner;

    public ITusTerminationStore? Termination => inner.Termination;

    public ITusConcatenationStore? Concatenation => inner.Concatenation;

    public ITusDeferredLengthStore? DeferredLength => inner.DeferredLength;

    public ITusExpirationStore? Expiration => inner.Expiration;

    public ITusChecksumStore? Checksum => inner.Checksum;

    public ITusListingStore? Listing => inner.Listing;

    public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken) => inner.CreateAsync(upload, cancellationToken);

    public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) => inner.GetAsync(uploadId, cancellationToken);

    public async ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        _consumed[upload.Id] = 0;
        using var counted = new CountingStream(data, count => _consumed[upload.Id] = count);
        return await inner.AppendAsync(upload, counted, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken) =>
        inner.OpenReadAsync(upload, offset, length, cancellationToken);

    /// <summary>Waits until the store has read at least <paramref name="count"/> bytes of the body being appended to an upload.</summary>
    public async Task WaitForConsumedAsync(string uploadId, long count, TimeSpan patience, CancellationToken cancellationToken)
    {
        // Real elapsed time, not the engine's clock: the test's own patience with a store that never reads.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!_consumed.TryGetValue(uploadId, out var consumed) || consumed < count)
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > patience)
            {
                throw new TimeoutException($"The store had read {(_consumed.TryGetValue(uploadId, out var seen) ? seen : 0)} of {count} body bytes of upload '{uploadId}' after {patience.TotalSeconds:F0} s.");
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class CountingStream(Stream inner, Action<long> report) : Stream
    {
        private long _count;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _count;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Counted(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).ConfigureAwait(false));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int read)
        {
            _count += read;
            report(_count);
            return read;
        }
    }
}
