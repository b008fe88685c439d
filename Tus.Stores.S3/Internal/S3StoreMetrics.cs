using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tus.Stores.Internal;

/// <summary>
/// The store's instruments, on a <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="S3Store.MeterName"/>
/// that each store owns (disposed with it), so two stores in one process report separately and a disposed store stops
/// reporting. Names and units follow the OpenTelemetry conventions: durations in seconds, sizes in bytes (<c>By</c>),
/// AWS operation names in <c>rpc.method</c>, a failure's kind in <c>error.type</c>.
/// </summary>
internal sealed class S3StoreMetrics : IDisposable
{
    private readonly Histogram<double> _partDuration;
    private readonly Counter<long> _io;

    public S3StoreMetrics(PartBufferPool buffers)
    {
        Meter = new Meter(S3Store.MeterName, typeof(S3StoreMetrics).Assembly.GetName().Version?.ToString());
        _partDuration = Meter.CreateHistogram<double>(
            "tus.s3.part.upload.duration",
            unit: "s",
            description: "Duration of the S3 calls that write an upload's data: UploadPart, UploadPartCopy (server-side copies) and PutObject (commit records and uploads that fit in one part).");
        _io = Meter.CreateCounter<long>(
            "tus.s3.io",
            unit: "By",
            description: "Data bytes sent to S3 (network.io.direction=transmit: parts, commit records and single PUTs) and read back from it to join kept bytes with the next request's (receive). Server-side copies move no bytes through the store.");
        var storage = new KeyValuePair<string, object?>("tus.s3.part_buffer.storage", buffers.Directory is null ? "memory" : "file");
        Meter.CreateObservableUpDownCounter(
            "tus.s3.part_buffer.usage",
            () => new Measurement<long>(buffers.BytesHeld, storage),
            unit: "By",
            description: "Bytes held in part buffers (temporary files, or memory with BufferInMemory) of requests in progress.");
        Meter.CreateObservableUpDownCounter(
            "tus.s3.part_buffer.count",
            () => new Measurement<long>(buffers.InUse, storage),
            unit: "{buffer}",
            description: "Part buffers in use (filling, or waiting for their upload), at most MaxBufferedParts.");
    }

    /// <summary>The store's meter.</summary>
    public Meter Meter { get; }

    /// <summary>Records one data-writing S3 call (<paramref name="operation"/>: its AWS name) that took
    /// <paramref name="elapsed"/>, and, when it succeeded, the bytes it sent.</summary>
    public void PartWritten(string operation, TimeSpan elapsed, long bytesSent, Exception? failure)
    {
        var method = new KeyValuePair<string, object?>("rpc.method", operation);
        if (failure is null)
        {
            _partDuration.Record(elapsed.TotalSeconds, method);
            if (bytesSent > 0)
            {
                _io.Add(bytesSent, new KeyValuePair<string, object?>("network.io.direction", "transmit"));
            }
        }
        else
        {
            _partDuration.Record(elapsed.TotalSeconds, method, new KeyValuePair<string, object?>("error.type", ErrorType(failure)));
        }
    }

    /// <summary>Counts data bytes read back from S3 to join them with others.</summary>
    public void BytesReceived(long count)
    {
        if (count > 0)
        {
            _io.Add(count, new KeyValuePair<string, object?>("network.io.direction", "receive"));
        }
    }

    /// <summary>A low-cardinality name for a failure: the S3 error code, else the exception's type name.</summary>
    private static string ErrorType(Exception failure) => failure switch
    {
        OperationCanceledException => "cancelled",
        Amazon.S3.AmazonS3Exception { ErrorCode: { Length: > 0 } code } => code,
        { InnerException: Amazon.S3.AmazonS3Exception { ErrorCode: { Length: > 0 } code } } => code,
        _ => failure.GetType().Name,
    };

    public void Dispose() => Meter.Dispose();
}
