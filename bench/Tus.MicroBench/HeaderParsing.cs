using BenchmarkDotNet.Attributes;
using Tus.Engine;
using Tus.Protocol;

namespace Tus.MicroBench;

/// <summary>What every request pays before touching storage: Upload-Offset/Length, Content-Type, Tus-Resumable.</summary>
[MemoryDiagnoser]
public class HeaderParsing
{
    private readonly string _offset = "1073741824";
    private readonly string _contentType = "application/offset+octet-stream";
    private readonly string _resumable = "1.0.0";

    [Benchmark]
    public long UploadOffset() => HeaderValues.TryParseLength(_offset.Trim(), out var value) ? value : -1;

    [Benchmark]
    public bool ContentType() => HeaderValues.IsMediaType(_contentType, TusHeaders.OffsetOctetStream);

    /// <summary>The dispatcher's check, as written there.</summary>
    [Benchmark]
    public bool TusResumable() => string.Equals(_resumable.Trim(), TusHeaders.ProtocolVersion, StringComparison.Ordinal);
}
