using Tus.Http;
using Tus.Protocol;
using Tus.Stores;

namespace Tus.Hooks;

/// <summary>
/// Callbacks at the points of the upload lifecycle. Each is optional; an exception thrown by one is logged and answered
/// as a 500 without its message. To refuse a request, call <c>Reject</c> on the context instead.
/// </summary>
public sealed class TusEvents
{
    /// <summary>Runs before every request except OPTIONS; reject to refuse it.</summary>
    public Func<AuthorizeContext, ValueTask>? OnAuthorize { get; set; }

    /// <summary>Runs before an upload is created; may change its id and metadata, or reject it.</summary>
    public Func<BeforeCreateContext, ValueTask>? OnBeforeCreate { get; set; }

    /// <summary>Runs after an upload was created.</summary>
    public Func<UploadEventContext, ValueTask>? OnCreated { get; set; }

    /// <summary>Runs once an upload has received its last byte (or a final upload was assembled).</summary>
    public Func<UploadEventContext, ValueTask>? OnCompleted { get; set; }

    /// <summary>Runs after an upload was terminated by a client.</summary>
    public Func<UploadEventContext, ValueTask>? OnTerminated { get; set; }
}

/// <summary>What a request intends to do, for authorization.</summary>
public enum TusIntent
{
    /// <summary>POST: create an upload.</summary>
    Create,

    /// <summary>HEAD: read an upload's state.</summary>
    GetInfo,

    /// <summary>PATCH: write to an upload.</summary>
    Write,

    /// <summary>DELETE: terminate an upload.</summary>
    Terminate,

    /// <summary>GET: download an upload.</summary>
    Download,
}

/// <summary>The base of hook contexts that can refuse a request.</summary>
public abstract class RejectableContext
{
    /// <summary>Creates the context.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    protected RejectableContext(TusRequest request, CancellationToken cancellationToken)
    {
        Request = request;
        CancellationToken = cancellationToken;
    }

    /// <summary>The request.</summary>
    public TusRequest Request { get; }

    /// <summary>Fires when the request is abandoned.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The error the request will be answered with, once rejected.</summary>
    public TusError? Rejection { get; private set; }

    /// <summary>Refuses the request with <see cref="TusError.UploadRejected"/>.</summary>
    public void Reject() => Rejection = TusError.UploadRejected;

    /// <summary>Refuses the request with a chosen status and message (e.g. 401 or 403).</summary>
    /// <param name="error">The error to answer with.</param>
    public void Reject(TusError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Rejection = error;
    }
}

/// <summary>The context of <see cref="TusEvents.OnAuthorize"/>.</summary>
public sealed class AuthorizeContext : RejectableContext
{
    internal AuthorizeContext(TusRequest request, TusIntent intent, string? uploadId, CancellationToken cancellationToken)
        : base(request, cancellationToken)
    {
        Intent = intent;
        UploadId = uploadId;
    }

    /// <summary>What the request intends.</summary>
    public TusIntent Intent { get; }

    /// <summary>The upload concerned, or <see langword="null"/> for a creation.</summary>
    public string? UploadId { get; }
}

/// <summary>The context of <see cref="TusEvents.OnBeforeCreate"/>.</summary>
public sealed class BeforeCreateContext : RejectableContext
{
    private string _uploadId;

    internal BeforeCreateContext(TusRequest request, string uploadId, long? length, UploadMetadata metadata, UploadConcatenation? concatenation, CancellationToken cancellationToken)
        : base(request, cancellationToken)
    {
        _uploadId = uploadId;
        Length = length;
        Metadata = metadata;
        Concatenation = concatenation;
    }

    /// <summary>The id the upload will get: a random one unless changed here.</summary>
    /// <exception cref="ArgumentException">The new id is not a valid upload id.</exception>
    public string UploadId
    {
        get => _uploadId;
        set
        {
            Protocol.UploadId.ThrowIfInvalid(value, nameof(value));
            _uploadId = value;
        }
    }

    /// <summary>The declared length, or <see langword="null"/> when deferred.</summary>
    public long? Length { get; }

    /// <summary>The metadata the upload will be stored with; replace it to change it.</summary>
    public UploadMetadata Metadata { get; set; }

    /// <summary>Partial or final details, or <see langword="null"/>.</summary>
    public UploadConcatenation? Concatenation { get; }
}

/// <summary>The context of the notifications about an upload.</summary>
public sealed class UploadEventContext
{
    internal UploadEventContext(TusRequest request, UploadInfo upload, CancellationToken cancellationToken)
    {
        Request = request;
        Upload = upload;
        CancellationToken = cancellationToken;
    }

    /// <summary>The request that caused the event.</summary>
    public TusRequest Request { get; }

    /// <summary>The upload.</summary>
    public UploadInfo Upload { get; }

    /// <summary>Fires when the request is abandoned.</summary>
    public CancellationToken CancellationToken { get; }
}
