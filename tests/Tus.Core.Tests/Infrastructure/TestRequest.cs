using System.IO.Pipelines;
using Tus.Http;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>A request built in memory, with any body stream (including ones that stall or break).</summary>
internal sealed class TestRequest : TusRequest
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _trailers = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _method;
    private readonly string _path;
    private readonly PipeReader _body;
    private readonly long? _contentLength;

    public TestRequest(string method, string path = "", Stream? body = null, long? contentLength = null, bool tus = true, int pipeBufferSize = 16 * 1024)
    {
        _method = method;
        _path = path;
        _body = PipeReader.Create(body ?? Stream.Null, new StreamPipeReaderOptions(bufferSize: pipeBufferSize, minimumReadSize: Math.Min(1024, pipeBufferSize)));
        _contentLength = contentLength;
        if (tus)
        {
            _headers["Tus-Resumable"] = "1.0.0";
        }
    }

    public static TestRequest WithBytes(string method, string path, byte[] body, bool declareLength = true) =>
        new(method, path, new MemoryStream(body), declareLength ? body.Length : null);

    public CancellationTokenSource AbortSource { get; } = new();

    public string HostValue { get; set; } = "localhost:8080";

    public string SchemeValue { get; set; } = "http";

    public TestRequest Header(string name, string? value)
    {
        if (value is null)
        {
            _headers.Remove(name);
        }
        else
        {
            _headers[name] = value;
        }

        return this;
    }

    public TestRequest Trailer(string name, string value)
    {
        _trailers[name] = value;
        return this;
    }

    public TestRequest OffsetStream() => Header("Content-Type", "application/offset+octet-stream");

    public override string Method => _method;

    public override string ResourcePath => _path;

    public override string Scheme => SchemeValue;

    public override string Host => HostValue;

    public override string EndpointPath => "/files/";

    public override string? GetHeader(string name) => _headers.TryGetValue(name, out var value) ? value : null;

    public override long? ContentLength => _contentLength;

    public override PipeReader Body => _body;

    public override string? GetTrailer(string name) => _trailers.TryGetValue(name, out var value) ? value : null;

    public override CancellationToken Aborted => AbortSource.Token;
}
