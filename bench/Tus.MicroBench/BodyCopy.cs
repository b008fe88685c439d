using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Tus.Engine;

namespace Tus.MicroBench;

/// <summary>
/// The body copy loop: <see cref="RequestBodyStream"/> over a <see cref="Pipe"/> of 4 KiB segments (what Kestrel hands
/// out) into <see cref="Stream.Null"/>, per 1 MiB request body: the engine's own cost per byte, without socket or disk.
/// </summary>
[MemoryDiagnoser]
public class BodyCopy
{
    private const int Segment = 4096;
    private const int BodyLength = 1024 * 1024;
    private readonly byte[] _chunk = new byte[Segment];

    /// <summary>Whole body buffered before the copy starts: the reader sees many segments per read.</summary>
    [Benchmark]
    public async Task<long> Buffered()
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: Segment, pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        for (var written = 0; written < BodyLength; written += Segment)
        {
            _chunk.CopyTo(pipe.Writer.GetSpan(Segment));
            pipe.Writer.Advance(Segment);
        }

        await pipe.Writer.FlushAsync();
        await pipe.Writer.CompleteAsync();
        return await CopyAsync(pipe.Reader);
    }

    /// <summary>One 4 KiB segment per flush, the reader woken inline each time: one read per network segment.</summary>
    [Benchmark]
    public async Task<long> PerSegment()
    {
        var pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, minimumSegmentSize: Segment, useSynchronizationContext: false));
        var copy = CopyAsync(pipe.Reader);
        for (var written = 0; written < BodyLength; written += Segment)
        {
            _chunk.CopyTo(pipe.Writer.GetSpan(Segment));
            pipe.Writer.Advance(Segment);
            await pipe.Writer.FlushAsync();
        }

        await pipe.Writer.CompleteAsync();
        return await copy;
    }

    private static async Task<long> CopyAsync(PipeReader reader)
    {
        using var body = new RequestBodyStream(reader, long.MaxValue, null, TimeSpan.FromSeconds(60), TimeProvider.System, default, default, default, default);
        await body.CopyToAsync(Stream.Null);
        await reader.CompleteAsync();
        return body.BytesRead;
    }
}
