using BenchmarkDotNet.Attributes;
using Tus.Protocol;

namespace Tus.MicroBench;

/// <summary>Upload-Metadata as tus-js-client and Uppy send it: parsed on creation, written back on HEAD.</summary>
[MemoryDiagnoser]
public class MetadataCodec
{
    private const string Header =
        "filename cGhvdG8tMjAyNC0wNS0wMS5qcGc=,filetype aW1hZ2UvanBlZw==,name cGhvdG8tMjAyNC0wNS0wMS5qcGc=,type aW1hZ2UvanBlZw==,relativePath bnVsbA==,is_confidential";

    private UploadMetadata _metadata = UploadMetadata.Empty;

    [GlobalSetup]
    public void Setup() => _metadata = UploadMetadata.TryParse(Header, out var parsed) ? parsed : throw new InvalidOperationException("The sample header does not parse.");

    [Benchmark]
    public int TryParse() => UploadMetadata.TryParse(Header, out var metadata) ? metadata.Count : -1;

    [Benchmark]
    public string Format() => _metadata.ToString();
}
