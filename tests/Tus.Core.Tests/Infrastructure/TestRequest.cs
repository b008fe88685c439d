using System.IO.Pipelines;
using System.Net;
using Tus.Http;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>A request built in memory, with any body stream (including ones that stall or break).</summary>
internal sealed class TestRequest : TusRequest
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _trailers = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _method;
    private readonly string _path;
    private PipeReader _body;
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

    /// <summary>A request whose body arrives through a <see cref="Pipe"/> of 4 KiB segments, the way Kestrel hands bodies over.</summary>
    public static TestRequest WithPipe(string method, string path, byte[] body, int writeSize)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 4096, pauseWriterThreshold: 0));
        _ = Task.Run(async () =>
        {
            for (var offset = 0; offset < body.Length; offset += writeSize)
            {
                await pipe.Writer.WriteAsync(body.AsMemory(offset, Math.Min(writeSize, body.Length - offset)));
            }

            await pipe.Writer.CompleteAsync();
        });
        return new TestRequest(method, path, pipe.Reader, body.Length);
    }

    /// <summary>A request over any body reader.</summary>
    public static TestRequest WithReader(string method, string path, PipeReader body, long? contentLength) => new(method, path, body, contentLength);

    private TestRequest(string method, string path, PipeReader body, long? contentLength)
        : this(method, path, Stream.Null, contentLength)
    {
        _body = body;
    }

    public static TestRequest WithBytes(string method, string path, byte[] body, bool declareLength = true) =>
        new(method, path, new MemoryStream(body), declareLength ? body.Length : null);

    public override IEnumerable<KeyValuePair<string, string>> EnumerateHeaders() => _headers;

    public override IPEndPoint? RemoteEndPoint => new(IPAddress.Loopback, 50_000);

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
