using Amazon.S3.Model;

namespace Tus.Stores.Internal;

/// <summary>
/// Reads a range of an upload that may span several data objects: one ranged GET per object, opened when the previous
/// one is read to its end. Not seekable; each read uses its own token.
/// </summary>
internal sealed class SegmentReadStream(S3Store store, string uploadId, List<(string Key, long From, long Count)> pieces, long length) : Stream
{
    private int _next;
    private GetObjectResponse? _response;
    private long _leftInPiece;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public async Task OpenFirstAsync(CancellationToken cancellationToken)
    {
        if (pieces.Count > 0)
        {
            await OpenNextAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (buffer.IsEmpty || _position >= length)
            {
                return 0;
            }

            if (_response is null || _leftInPiece == 0)
            {
                if (_next >= pieces.Count)
                {
                    return 0;
                }

                await OpenNextAsync(cancellationToken).ConfigureAwait(false);
            }

            var want = (int)Math.Min(buffer.Length, _leftInPiece);
            var read = await _response!.ResponseStream.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"The data of upload '{uploadId}' ended {_leftInPiece} bytes early in '{pieces[_next - 1].Key}'.");
            }

            _leftInPiece -= read;
            _position += read;
            return read;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private async Task OpenNextAsync(CancellationToken cancellationToken)
    {
        _response?.Dispose();
        _response = null;
        var (key, from, count) = pieces[_next++];
        var request = new GetObjectRequest { BucketName = store.Bucket, Key = key, ByteRange = new ByteRange(from, from + count - 1) };
        try
        {
            _response = await store.S3Async(static (s, r, ct) => s.Client.GetObjectAsync(r, ct), request, "reading " + key, cancellationToken).ConfigureAwait(false);
        }
        catch (Amazon.S3.AmazonS3Exception e) when (S3Errors.IsNotFound(e))
        {
            throw new UploadNotFoundException(uploadId);
        }

        _leftInPiece = count;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _response?.Dispose();
            _response = null;
        }

        base.Dispose(disposing);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
