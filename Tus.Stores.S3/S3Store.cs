using System.Net;
using Amazon;
using Amazon.S3;
using Amazon.S3.Model;
using Tus.Protocol;
using Tus.Stores.Internal;

namespace Tus.Stores;

/// <summary>
/// A tus store that keeps uploads in Amazon S3 or an S3-compatible server (Ceph RGW, MinIO, R2, Wasabi). It serves every
/// capability: termination, concatenation, deferred length, expiration, checksum and listing.
/// </summary>
/// <remarks>
/// <para>Each upload is one JSON info object, <c>{MetadataPrefix}{id}.info</c> (length, exact metadata, concatenation,
/// times, and the id of its multipart upload), and one multipart upload of the object <c>{ObjectPrefix}{id}</c>, which
/// becomes the finished file when the last byte arrives. Every request body is cut into parts buffered in bounded
/// temporary storage and uploaded concurrently while it still arrives. Bytes left at the end of a request that are too
/// few for a part (below <see cref="S3StoreOptions.MinPartSize"/>) are kept in a small object and joined with the next
/// request's bytes. An upload sent in one request whose bytes fit in one part is written with one PUT.</para>
/// <para>That small object is also the upload's commit record: its name,
/// <c>{ObjectPrefix}{id}.tail.{generation}.{parts}.{bytes}</c>, says how many parts of the multipart upload, holding how
/// many bytes, belong to the upload. Each request writes a new one last, once its parts are stored, so the offset (the
/// record's bytes plus its own size) counts exactly the bytes S3 holds for the upload: parts that a crash, a failure or a
/// checksum-failed body left behind are not counted, and the next request uploads over them. The record before the last
/// is kept until the next request, so the last request's bytes can be taken back.</para>
/// <para>The offset is found with one listing of <c>{ObjectPrefix}{id}</c>, in parallel with the info read, on every
/// lookup, and carried in <see cref="UploadInfo.StoreState"/> for the rest of the request.</para>
/// <para>S3 cannot read the parts of an unfinished multipart upload: <see cref="OpenReadAsync"/> reads finished uploads,
/// and of an unfinished one only the bytes kept in its record.</para>
/// <para>The final object carries Content-Type from the <c>filetype</c> metadata and the metadata S3 can hold (printable
/// ASCII, non-ASCII characters replaced with <c>?</c>, at most 2 KB); the info object keeps the exact bytes.</para>
/// </remarks>
public sealed partial class S3Store : ITusStore, IDisposable
{
    private const string InfoSuffix = ".info";

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly S3StoreOptions _options;
    private readonly string _bucket;
    private readonly string _objectPrefix;
    private readonly string _metadataPrefix;
    private readonly TimeProvider _timeProvider;
    private readonly PartBufferPool _buffers;
    private readonly S3StoreMetrics _metrics;

    /// <summary>Whether bodies go <c>UNSIGNED-PAYLOAD</c>: asked for, and the client speaks HTTPS (the SDK throws otherwise).</summary>
    private readonly bool _unsignedPayload;

    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> each store reports on (add it to your metrics
    /// pipeline, e.g. OpenTelemetry's <c>AddMeter(S3Store.MeterName)</c>): <c>tus.s3.part.upload.duration</c> (s),
    /// <c>tus.s3.io</c> (By), <c>tus.s3.part_buffer.usage</c> (By) and <c>tus.s3.part_buffer.count</c>. See the
    /// package README.</summary>
    public const string MeterName = "Tus.Stores.S3";

    /// <summary>Creates the store with an S3 client built from the options (endpoint, path style, checksum modes, region)
    /// and the SDK's credential chain.</summary>
    /// <param name="options">The options; validated and copied here, so later changes have no effect.</param>
    /// <param name="timeProvider">The clock, for the creation time of an upload that comes without one.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public S3Store(S3StoreOptions options, TimeProvider timeProvider)
        : this(options, CreateClient(Validated(options)), timeProvider, ownsClient: true)
    {
    }

    /// <summary>Creates the store over a client of your own (its configuration is yours: see
    /// <see cref="CreateClientConfig"/> for the settings S3-compatible servers need). The store does not dispose it.</summary>
    /// <param name="options">The options; validated and copied here. Endpoint, region and checksum modes are the client's.</param>
    /// <param name="client">The S3 client.</param>
    /// <param name="timeProvider">The clock, for the creation time of an upload that comes without one.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public S3Store(S3StoreOptions options, IAmazonS3 client, TimeProvider timeProvider)
        : this(options, client, timeProvider, ownsClient: false)
    {
    }

    private S3Store(S3StoreOptions options, IAmazonS3 client, TimeProvider timeProvider, bool ownsClient)
    {
        Validated(options);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = Copy(options);
        _client = client;
        _ownsClient = ownsClient;
        _bucket = options.Bucket!;
        _objectPrefix = options.ObjectPrefix;
        _metadataPrefix = options.EffectiveMetadataPrefix;
        _timeProvider = timeProvider;
        string? directory = null;
        if (!options.BufferInMemory)
        {
            directory = Path.GetFullPath(options.EffectiveTemporaryDirectory);
            Directory.CreateDirectory(directory);
            PartBufferPool.SweepAbandonedFiles(directory);
        }

        _buffers = new PartBufferPool(options.MaxBufferedParts, directory);
        _metrics = new S3StoreMetrics(_buffers);
        _unsignedPayload = options.DisableContentHashes && UsesHttps(client.Config);
    }

    /// <summary>Whether the client's requests go over HTTPS: its endpoint URL's scheme, else the region's (HTTPS unless
    /// <c>UseHttp</c>).</summary>
    internal static bool UsesHttps(Amazon.Runtime.IClientConfig config) =>
        string.IsNullOrEmpty(config.ServiceURL)
            ? !config.UseHttp
            : config.ServiceURL.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The configuration the store gives the clients it builds from <paramref name="options"/>: endpoint, path
    /// style, region, and the checksum modes S3-compatible servers need.</summary>
    /// <param name="options">The options.</param>
    /// <returns>A new configuration.</returns>
    public static AmazonS3Config CreateClientConfig(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = options.RequestChecksumCalculation,
            ResponseChecksumValidation = options.ResponseChecksumValidation,
        };
        if (options.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            if (options.Region is { } signingRegion)
            {
                config.AuthenticationRegion = signingRegion;
            }
        }

        return config;
    }

    /// <inheritdoc />
    public ITusTerminationStore? Termination => this;

    /// <inheritdoc />
    public ITusConcatenationStore? Concatenation => this;

    /// <inheritdoc />
    public ITusDeferredLengthStore? DeferredLength => this;

    /// <inheritdoc />
    public ITusExpirationStore? Expiration => this;

    /// <inheritdoc />
    public ITusChecksumStore? Checksum => this;

    /// <inheritdoc />
    public ITusListingStore? Listing => this;

    /// <summary>The directory of part buffer files, or <see langword="null"/> when parts are buffered in memory.</summary>
    public string? TemporaryDirectory => _buffers.Directory;

    /// <inheritdoc />
    /// <remarks>The info object is written with <c>If-None-Match: *</c>, so of two racing creations exactly one succeeds.
    /// A zero-length upload gets its (empty) final object at once.</remarks>
    /// <exception cref="UploadAlreadyExistsException">An upload with that id exists already.</exception>
    public async ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        UploadId.ThrowIfInvalid(upload.Id, nameof(upload));
        if (upload.Length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(upload), upload.Length, "The length of an upload cannot be negative.");
        }

        if (upload.Concatenation is { IsFinal: true } final && final.PartialIds.Any(id => !UploadId.IsValid(id)))
        {
            throw new ArgumentException("A partial upload id of the final upload is not a valid upload id.", nameof(upload));
        }

        var document = UploadInfoDocument.From(upload, upload.CreatedAt == default ? _timeProvider.GetUtcNow() : upload.CreatedAt);
        var infoKey = InfoKey(upload.Id);
        try
        {
            await S3Async(
                static (s, args, ct) => s._client.PutObjectAsync(s.PutRequest(args.Key, new MemoryStream(args.Body), "application/json", ifNoneMatch: true), ct),
                (Key: infoKey, Body: document.Serialize()),
                "creating " + infoKey,
                cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            throw new UploadAlreadyExistsException(upload.Id);
        }

        var state = new S3UploadState(document, null, []);
        if (upload.Length == 0)
        {
            await PutDataAsync(upload.Id, DataKey(upload.Id), new MemoryStream(), document, cancellationToken).ConfigureAwait(false);
            state.FinalSize = 0;
        }

        return ToUploadInfo(upload.Id, state);
    }

    /// <inheritdoc />
    /// <remarks>One lookup: the info object is read while the data objects are listed, in parallel.</remarks>
    /// <exception cref="InvalidDataException">The upload's info object is corrupt.</exception>
    public async ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken)
    {
        UploadId.ThrowIfInvalid(uploadId, nameof(uploadId));
        var state = await LookupAsync(uploadId, cancellationToken).ConfigureAwait(false);
        return state is null ? null : ToUploadInfo(uploadId, state);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The stream reads the final object with one ranged GET; it does not depend on <paramref name="cancellationToken"/>
    /// after it is returned. Of an unfinished upload only the bytes kept in its commit record can be read (S3 cannot read
    /// the parts of a multipart upload before it is completed); the engine reads finished uploads only.
    /// </remarks>
    /// <exception cref="NotSupportedException">The range of an unfinished upload lies in its multipart upload's parts.</exception>
    public async ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var state = await StateOfAsync(upload, cancellationToken).ConfigureAwait(false);
        if (offset > state.Offset - length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The range [{offset}, {offset} + {length}) goes beyond the upload's offset {state.Offset}.");
        }

        var pieces = new List<(string Key, long From, long Count)>(1);
        if (length > 0)
        {
            if (state.FinalSize is not null)
            {
                pieces.Add((DataKey(upload.Id), offset, length));
            }
            else if (state.Current is { } record && offset >= record.PartBytes)
            {
                pieces.Add((record.Key, offset - record.PartBytes, length));
            }
            else
            {
                throw new NotSupportedException($"Bytes {offset} to {offset + length} of the unfinished upload '{upload.Id}' are in parts of its multipart upload, which S3 cannot read before the upload is finished.");
            }
        }

        var stream = new SegmentReadStream(this, upload.Id, pieces, length);
        try
        {
            await stream.OpenFirstAsync(cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Disposes the part buffers (deleting their files) and the client, when the store built it.</summary>
    public void Dispose()
    {
        _metrics.Dispose();
        _buffers.Dispose();
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    internal string DataKey(string id) => _objectPrefix + id;

    internal string InfoKey(string id) => _metadataPrefix + id + InfoSuffix;

    internal IAmazonS3 Client => _client;

    internal S3StoreMetrics Metrics => _metrics;

    internal string Bucket => _bucket;

    /// <summary>The state riding along with <paramref name="upload"/>, or a fresh lookup when there is none or it does not
    /// match the upload's offset (an info built elsewhere).</summary>
    /// <remarks>A change (<paramref name="forChange"/>) given carried state first checks, with one HEAD of the info object,
    /// that the upload was not removed since the state was read: nothing is written for an upload that is gone.</remarks>
    private async ValueTask<S3UploadState> StateOfAsync(UploadInfo upload, CancellationToken cancellationToken, bool forChange = false)
    {
        UploadId.ThrowIfInvalid(upload.Id, nameof(upload));
        if (CarriedState(upload) is { } state)
        {
            if (forChange)
            {
                await EnsureExistsAsync(upload.Id, cancellationToken).ConfigureAwait(false);
            }

            return state;
        }

        return await LookupAsync(upload.Id, cancellationToken).ConfigureAwait(false) ?? throw new UploadNotFoundException(upload.Id);
    }

    /// <summary>The state riding along with <paramref name="upload"/> when it matches the upload, else <see langword="null"/>.</summary>
    private static S3UploadState? CarriedState(UploadInfo upload) =>
        upload.StoreState is S3UploadState state && state.Offset == upload.Offset && string.Equals(state.Document.Id, upload.Id, StringComparison.Ordinal)
            ? state
            : null;

    private async Task EnsureExistsAsync(string id, CancellationToken cancellationToken)
    {
        var key = InfoKey(id);
        try
        {
            await S3Async(
                static (s, k, ct) => s._client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = s._bucket, Key = k }, ct),
                key,
                "checking " + key,
                cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (S3Errors.IsNotFound(e))
        {
            throw new UploadNotFoundException(id);
        }
    }

    private async ValueTask<S3UploadState?> LookupAsync(string id, CancellationToken cancellationToken)
    {
        var info = ReadInfoAsync(id, cancellationToken);
        var data = ListDataAsync(id, cancellationToken);
        try
        {
            await Task.WhenAll(info, data).ConfigureAwait(false);
        }
        catch
        {
            // Both are observed; the first failure is the one to report.
            _ = info.Exception;
            _ = data.Exception;
            await info.ConfigureAwait(false);
            await data.ConfigureAwait(false);
            throw;
        }

        var document = await info.ConfigureAwait(false);
        if (document is null)
        {
            return null;
        }

        var (finalSize, records) = await data.ConfigureAwait(false);
        return new S3UploadState(document, finalSize, records);
    }

    private async Task<UploadInfoDocument?> ReadInfoAsync(string id, CancellationToken cancellationToken)
    {
        var key = InfoKey(id);
        try
        {
            using var response = await S3Async(
                static (s, k, ct) => s._client.GetObjectAsync(new GetObjectRequest { BucketName = s._bucket, Key = k }, ct),
                key,
                "reading " + key,
                cancellationToken).ConfigureAwait(false);
            using var copy = new MemoryStream();
            await response.ResponseStream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            return UploadInfoDocument.Parse(copy.GetBuffer().AsSpan(0, (int)copy.Length), id, key);
        }
        catch (AmazonS3Exception e) when (S3Errors.IsNotFound(e))
        {
            return null;
        }
    }

    /// <summary>The upload's final object (its size, when there is one) and commit records, found with one (paged)
    /// listing of <c>{ObjectPrefix}{id}</c>.</summary>
    private async Task<(long? FinalSize, List<TailRecord> Records)> ListDataAsync(string id, CancellationToken cancellationToken)
    {
        var baseKey = DataKey(id);
        long? finalSize = null;
        var records = new List<TailRecord>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = baseKey };
        while (true)
        {
            var response = await S3Async(
                static (s, r, ct) => s._client.ListObjectsV2Async(r, ct),
                request,
                "listing " + baseKey,
                cancellationToken).ConfigureAwait(false);
            foreach (var entry in response.S3Objects ?? [])
            {
                if (string.Equals(entry.Key, baseKey, StringComparison.Ordinal))
                {
                    finalSize = entry.Size ?? 0;
                }
                else if (TailRecord.TryParse(baseKey, entry.Key, entry.Size ?? 0) is { } record)
                {
                    records.Add(record);
                }
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                return (finalSize, records);
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    private UploadInfo ToUploadInfo(string id, S3UploadState state)
    {
        var infoKey = InfoKey(id);
        var storage = new Dictionary<string, string>
        {
            ["Type"] = "s3store",
            ["Bucket"] = _bucket,
            ["Key"] = DataKey(id),
            ["InfoKey"] = infoKey,
        };
        return state.Document.ToUploadInfo(state.Offset, storage, infoKey) with { StoreState = state };
    }

    private async Task WriteInfoAsync(string id, UploadInfoDocument document, CancellationToken cancellationToken)
    {
        var key = InfoKey(id);
        await S3Async(
            static (s, args, ct) => s._client.PutObjectAsync(s.PutRequest(args.Key, new MemoryStream(args.Body), "application/json", ifNoneMatch: false), ct),
            (Key: key, Body: document.Serialize()),
            "writing " + key,
            cancellationToken).ConfigureAwait(false);
    }

    internal PutObjectRequest PutRequest(string key, Stream body, string contentType, bool ifNoneMatch)
    {
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = true,
            AutoResetStreamPosition = true,
            ContentType = contentType,
            UseChunkEncoding = _options.UseChunkEncoding,
            DisablePayloadSigning = _unsignedPayload,
        };
        if (ifNoneMatch)
        {
            request.IfNoneMatch = "*";
        }

        return request;
    }

    /// <summary>Runs one S3 call, translating what it throws into the store exceptions (see <see cref="S3Errors"/>).</summary>
    internal async Task<TResult> S3Async<TArg, TResult>(Func<S3Store, TArg, CancellationToken, Task<TResult>> call, TArg arg, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await call(this, arg, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (S3Errors.Translate(e, what, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    private static S3StoreOptions Validated(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid S3 store options:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)), nameof(options));
        }

        return options;
    }

    private static AmazonS3Client CreateClient(S3StoreOptions options) => new(CreateClientConfig(options));

    private static S3StoreOptions Copy(S3StoreOptions o) => new()
    {
        Bucket = o.Bucket,
        ObjectPrefix = o.ObjectPrefix,
        MetadataPrefix = o.MetadataPrefix,
        Endpoint = o.Endpoint,
        Region = o.Region,
        ForcePathStyle = o.ForcePathStyle,
        RequestChecksumCalculation = o.RequestChecksumCalculation,
        ResponseChecksumValidation = o.ResponseChecksumValidation,
        UseChunkEncoding = o.UseChunkEncoding,
        DisableContentHashes = o.DisableContentHashes,
        MinPartSize = o.MinPartSize,
        PreferredPartSize = o.PreferredPartSize,
        MaxPartSize = o.MaxPartSize,
        MaxParts = o.MaxParts,
        MaxObjectSize = o.MaxObjectSize,
        MaxConcurrentPartUploads = o.MaxConcurrentPartUploads,
        MaxBufferedParts = o.MaxBufferedParts,
        BufferInMemory = o.BufferInMemory,
        TemporaryDirectory = o.TemporaryDirectory,
    };
}
