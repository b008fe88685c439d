using Amazon.Runtime;

namespace Tus.Stores;

/// <summary>Options of the <see cref="S3Store"/>.</summary>
/// <remarks>
/// Region and credentials come from the AWS SDK's usual chain (<c>AWS_REGION</c>, <c>AWS_ACCESS_KEY_ID</c>,
/// <c>AWS_SECRET_ACCESS_KEY</c>, profiles, instance roles) unless <see cref="Region"/> is set, or unless the store is
/// given a client of your own (<see cref="S3Store(S3StoreOptions, Amazon.S3.IAmazonS3, TimeProvider)"/>).
/// </remarks>
public sealed class S3StoreOptions
{
    /// <summary>The smallest part S3 accepts (every part of a multipart upload but the last): 5 MiB.</summary>
    public const long S3MinPartSize = 5L * 1024 * 1024;

    /// <summary>The largest part S3 accepts: 5 GiB.</summary>
    public const long S3MaxPartSize = 5L * 1024 * 1024 * 1024;

    /// <summary>The most parts one multipart upload may have: 10,000.</summary>
    public const int S3MaxParts = 10_000;

    /// <summary>The bucket that holds the uploads. Required; it must exist. Default: <see langword="null"/>.</summary>
    public string? Bucket { get; set; }

    /// <summary>
    /// Put in front of every data object's key: an upload's object is <c>{ObjectPrefix}{id}</c>, for example
    /// <c>"uploads/"</c>. Default: <c>""</c> (the bucket's root).
    /// </summary>
    public string ObjectPrefix { get; set; } = "";

    /// <summary>
    /// Put in front of every info object's key (<c>{MetadataPrefix}{id}.info</c>), so that the JSON descriptions can live
    /// apart from the data. Default: <see langword="null"/>, meaning <see cref="ObjectPrefix"/>.
    /// </summary>
    public string? MetadataPrefix { get; set; }

    /// <summary>
    /// The endpoint of an S3-compatible server (Ceph RGW, MinIO, R2, Wasabi), e.g. <c>http://127.0.0.1:7480</c>.
    /// Default: <see langword="null"/>, meaning Amazon S3 in the configured region.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The region, e.g. <c>us-east-1</c>. Default: <see langword="null"/>, meaning the SDK's chain (<c>AWS_REGION</c>, profiles).</summary>
    public string? Region { get; set; }

    /// <summary>
    /// Addresses buckets as <c>endpoint/bucket/key</c> instead of <c>bucket.endpoint/key</c>: most S3-compatible servers
    /// need it with a custom <see cref="Endpoint"/>. Default: <see langword="false"/>.
    /// </summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>
    /// When the SDK computes request checksums. The SDK's own default (<c>WHEN_SUPPORTED</c>) sends bodies
    /// <c>aws-chunked</c> with a trailing CRC32, which many S3-compatible servers reject or corrupt; Amazon S3 accepts
    /// both. Default: <see cref="RequestChecksumCalculation.WHEN_REQUIRED"/>.
    /// </summary>
    public RequestChecksumCalculation RequestChecksumCalculation { get; set; } = RequestChecksumCalculation.WHEN_REQUIRED;

    /// <summary>When the SDK validates response checksums. Default: <see cref="ResponseChecksumValidation.WHEN_REQUIRED"/>.</summary>
    public ResponseChecksumValidation ResponseChecksumValidation { get; set; } = ResponseChecksumValidation.WHEN_REQUIRED;

    /// <summary>
    /// Whether signed bodies are sent with <c>aws-chunked</c> encoding (a signature per chunk) rather than hashed whole
    /// before sending. Many S3-compatible servers do not support it. Default: <see langword="false"/>.
    /// </summary>
    public bool UseChunkEncoding { get; set; }

    /// <summary>
    /// Sends bodies with <c>UNSIGNED-PAYLOAD</c> instead of hashing them (SHA-256) for the signature, saving CPU; the
    /// transport (HTTPS) then carries their integrity alone. Only over HTTPS: the AWS SDK refuses unsigned payloads over
    /// plain HTTP, so with an <c>http://</c> endpoint bodies stay signed. Like tusd's <c>-s3-disable-content-hashes</c>.
    /// Default: <see langword="false"/>.
    /// </summary>
    public bool DisableContentHashes { get; set; }

    /// <summary>
    /// The smallest part the store uploads while more data follows, and the size under which the last piece of a request
    /// is joined with the next request's bytes rather than kept as a separate part. At least
    /// <see cref="S3MinPartSize"/>. Default: 5 MiB.
    /// </summary>
    public long MinPartSize { get; set; } = S3MinPartSize;

    /// <summary>
    /// The part size the store aims for. Larger parts mean fewer requests; each part is buffered whole (on disk or in
    /// memory) while it uploads. Parts grow beyond it when an upload would otherwise need more than <see cref="MaxParts"/>
    /// parts. Default: 8 MiB.
    /// </summary>
    public long PreferredPartSize { get; set; } = 8L * 1024 * 1024;

    /// <summary>The largest part the store uploads; at most <see cref="S3MaxPartSize"/>. Default: 5 GiB.</summary>
    public long MaxPartSize { get; set; } = S3MaxPartSize;

    /// <summary>The most parts in one multipart upload; at most <see cref="S3MaxParts"/>. Default: 10,000.</summary>
    public int MaxParts { get; set; } = S3MaxParts;

    /// <summary>
    /// The largest object the store can write: part sizes are chosen so that an upload of this size fits in
    /// <see cref="MaxParts"/> parts. Default: 5 TiB (the S3 limit).
    /// </summary>
    public long MaxObjectSize { get; set; } = 5L * 1024 * 1024 * 1024 * 1024;

    /// <summary>
    /// How many parts of one request upload at the same time while its body still arrives. S3 servers take parts faster
    /// the more arrive at once (measured against Ceph RGW in bench/). Default: 8.
    /// </summary>
    public int MaxConcurrentPartUploads { get; set; } = 8;

    /// <summary>
    /// The most parts buffered at once across all requests of the store (being filled or uploading). With
    /// <see cref="PreferredPartSize"/> it bounds the disk (or memory) used for buffering: a request waits for a free
    /// buffer rather than exceed it. Default: 32.
    /// </summary>
    public int MaxBufferedParts { get; set; } = 32;

    /// <summary>
    /// Buffers parts in memory instead of temporary files. Memory used is then at most <see cref="MaxBufferedParts"/>
    /// times the part size in use (parts beyond <see cref="PreferredPartSize"/> only for very large uploads). Default:
    /// <see langword="false"/>.
    /// </summary>
    public bool BufferInMemory { get; set; }

    /// <summary>
    /// The directory for part buffer files (unless <see cref="BufferInMemory"/>). Files are deleted when done, and files
    /// left by a crashed process are removed at start-up. Default: <see langword="null"/>, meaning
    /// <c>{system temp}/tus-s3-parts</c>.
    /// </summary>
    public string? TemporaryDirectory { get; set; }

    /// <summary>Checks the options.</summary>
    /// <returns>Every problem found, as messages naming the option; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        const string Name = nameof(S3StoreOptions);
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            problems.Add($"{Name}.{nameof(Bucket)} must name a bucket.");
        }

        if (ObjectPrefix is null)
        {
            problems.Add($"{Name}.{nameof(ObjectPrefix)} cannot be null (use \"\" for none).");
        }

        if (Endpoint is { IsAbsoluteUri: false })
        {
            problems.Add($"{Name}.{nameof(Endpoint)} must be an absolute URI such as http://127.0.0.1:7480.");
        }

        if (MinPartSize < S3MinPartSize || MinPartSize > S3MaxPartSize)
        {
            problems.Add($"{Name}.{nameof(MinPartSize)} must be between {S3MinPartSize} and {S3MaxPartSize} bytes; it is {MinPartSize}.");
        }

        if (MaxPartSize < MinPartSize || MaxPartSize > S3MaxPartSize)
        {
            problems.Add($"{Name}.{nameof(MaxPartSize)} must be between {nameof(MinPartSize)} and {S3MaxPartSize} bytes; it is {MaxPartSize}.");
        }

        if (PreferredPartSize < MinPartSize || PreferredPartSize > MaxPartSize)
        {
            problems.Add($"{Name}.{nameof(PreferredPartSize)} must be between {nameof(MinPartSize)} and {nameof(MaxPartSize)}; it is {PreferredPartSize}.");
        }

        if (MaxParts is < 1 or > S3MaxParts)
        {
            problems.Add($"{Name}.{nameof(MaxParts)} must be between 1 and {S3MaxParts}; it is {MaxParts}.");
        }

        if (MaxObjectSize < 1)
        {
            problems.Add($"{Name}.{nameof(MaxObjectSize)} must be positive; it is {MaxObjectSize}.");
        }
        else if (MaxParts is >= 1 and <= S3MaxParts && MaxPartSize >= MinPartSize && (double)MaxObjectSize > (double)MaxPartSize * MaxParts)
        {
            problems.Add($"{Name}.{nameof(MaxObjectSize)} ({MaxObjectSize}) cannot fit in {MaxParts} parts of at most {MaxPartSize} bytes.");
        }

        if (MaxConcurrentPartUploads < 1)
        {
            problems.Add($"{Name}.{nameof(MaxConcurrentPartUploads)} must be at least 1; it is {MaxConcurrentPartUploads}.");
        }

        if (MaxBufferedParts < 2)
        {
            problems.Add($"{Name}.{nameof(MaxBufferedParts)} must be at least 2 (one part filling while one uploads); it is {MaxBufferedParts}.");
        }

        if (!BufferInMemory && TemporaryDirectory is { } directory && (directory.Length == 0 || directory.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0))
        {
            problems.Add($"{Name}.{nameof(TemporaryDirectory)} '{directory}' is not a valid path.");
        }

        return problems;
    }

    internal string EffectiveMetadataPrefix => MetadataPrefix ?? ObjectPrefix;

    internal string EffectiveTemporaryDirectory => TemporaryDirectory ?? Path.Combine(Path.GetTempPath(), "tus-s3-parts");
}
